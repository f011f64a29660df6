"""CORS: which browser origins may call the API, on every answer, errors included.

Chalice's own CORS support allows one fixed origin; a stage here names
several (``CORS_ALLOWED_ORIGINS``), so the middleware answers each request
for the origin it came from, and every path gets an OPTIONS route for the
browser's preflight (on API Gateway too, where it reaches the Lambda).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib.config import settings
from chalicelib.http.context import current_request

PREFLIGHT_ATTRIBUTE = "cors_preflight"
ALLOWED_HEADERS = "Authorization, Content-Type"
# Headers a browser script may read besides the safe ones.
EXPOSED_HEADERS = "Content-Disposition, Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE_SECONDS = "600"


def add_preflight_routes(app: Chalice) -> None:
    """An OPTIONS route on every path of ``app`` that has none; call after the blueprints."""
    for path, methods in list(app.routes.items()):
        if "OPTIONS" not in methods:
            app.route(path, methods=["OPTIONS"])(_preflight_view(app))


def is_preflight(view: Callable[..., Any]) -> bool:
    """Whether ``view`` is a CORS preflight route (not part of the documented API)."""
    return bool(getattr(view, PREFLIGHT_ATTRIBUTE, False))


def _preflight_view(app: Chalice) -> Callable[..., Response]:
    def preflight(**_: str) -> Response:
        request = current_request()
        path = (request.context or {}).get("resourcePath") or request.path
        methods = sorted({*app.routes.get(path, {}), "OPTIONS"})
        return Response(body="", status_code=204, headers={"Allow": ", ".join(methods)})

    setattr(preflight, PREFLIGHT_ATTRIBUTE, True)
    return preflight


def apply(request: Request, response: Response) -> None:
    """Add the CORS headers ``request``'s origin is entitled to onto ``response``."""
    headers = response.headers
    headers.update(cors_headers(request.headers.get("origin")))
    if request.method == "OPTIONS" and "Access-Control-Allow-Origin" in headers:
        headers["Access-Control-Allow-Methods"] = str(headers.get("Allow", "OPTIONS"))
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_SECONDS


def cors_headers(origin: str | None) -> dict[str, str]:
    """The CORS headers of an answer to a request from ``origin`` (its Origin header)."""
    # Caches must not hand one origin's answer to another.
    headers = {"Vary": "Origin"}
    origin = (origin or "").rstrip("/")
    allowed = settings().cors_allowed_origins
    if origin and ("*" in allowed or origin in allowed):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return headers
