"""HTTP routes of the API's description: /api/schema, /api/docs, /api/redoc."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib.http.apidoc import documented
from chalicelib.http.context import current_request
from chalicelib.http.pagination import base_url
from chalicelib.http.routes import public

bp = Blueprint(__name__)


@bp.route("/schema", methods=["GET"])
@documented("This document: the API in OpenAPI 3.1")
@public
def schema() -> Response:
    request = current_request()
    body = json.dumps({**_document(), "servers": [{"url": _api_root(request)}]})
    return Response(body=body, headers={"Content-Type": "application/json"})


@bp.route("/docs", methods=["GET"])
@documented("The API in Swagger UI", media_type="text/html")
@public
def swagger_ui() -> Response:
    from chalicelib.openapi import pages

    page, headers = pages.swagger_ui(_api_root(current_request()) + "/api/schema")
    return Response(body=page, headers=dict(headers))


@bp.route("/redoc", methods=["GET"])
@documented("The API in ReDoc", media_type="text/html")
@public
def redoc() -> Response:
    from chalicelib.openapi import pages

    page, headers = pages.redoc(_api_root(current_request()) + "/api/schema")
    return Response(body=page, headers=dict(headers))


@cache
def _document() -> dict[str, Any]:
    from chalicelib.openapi.document import build_document

    return build_document(bp.current_app)


def _api_root(request: Request) -> str:
    """Where the API's paths start as the client sees it: host plus API Gateway's stage."""
    url = base_url(request)
    route = request.path.rstrip("/")
    return url[: -len(route)] if route and url.endswith(route) else url
