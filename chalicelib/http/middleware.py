"""The HTTP middleware: request context, log keys and problem+json for every error."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalice.app import Chalice, Request, Response

from chalicelib import logs
from chalicelib.http import cors
from chalicelib.http.context import set_request
from chalicelib.http.problems import from_chalice_error, internal_error

log = logging.getLogger(__name__)


def install(app: Chalice) -> None:
    """Register the middleware on ``app``; call once from app.py."""
    logs.configure()
    app.register_middleware(_api_middleware, "http")


def _api_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    logs.clear_keys()
    request_id = (request.context or {}).get("requestId")
    logs.append_keys(request_id=request_id, path=request.path, method=request.method)
    set_request(request)
    try:
        response = get_response(request)
    except Exception:
        log.exception("unhandled error")
        response = internal_error()
    finally:
        set_request(None)
    response = from_chalice_error(response)
    cors.apply(request, response)
    # Bodies are JSON or problem+json as labelled; browsers must not guess.
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
