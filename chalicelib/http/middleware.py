"""The HTTP middleware: request context, log keys and problem+json for every error."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalice.app import CaseInsensitiveMapping, Chalice, Request, Response

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
    _accept_anything(request)
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
    return _as_bytes(response)


def _accept_anything(request: Request) -> None:
    # Each route has one representation, so Accept negotiates nothing here.
    # But Chalice refuses (400) a binary response, such as an exported file,
    # unless Accept names a binary type, and API Gateway decodes the file
    # only for such an Accept. Every type being binary (see app.py), reading
    # every request as "Accept: */*" makes files arrive intact for any client.
    headers = dict(request.headers)
    headers["accept"] = "*/*"
    request.headers = CaseInsensitiveMapping(headers)


def _as_bytes(response: Response) -> Response:
    # Every content type is binary to API Gateway (see app.py), and Chalice
    # then needs bytes for any body it does not serialise itself as JSON.
    if isinstance(response.body, str):
        response.body = response.body.encode("utf-8")
    return response
