"""The request being served, for the decorators that need it.

Chalice hands the request to middleware, not to views; the middleware
stores it here so :func:`chalicelib.http.auth.authenticated` can read its
``Authorization`` header without each route passing it along.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalice.app import Request

_current: ContextVar[Request | None] = ContextVar("current_request", default=None)


def set_request(request: Request | None) -> None:
    _current.set(request)


def current_request() -> Request:
    """The request being served; only valid inside a route."""
    request = _current.get()
    if request is None:
        raise RuntimeError("no request is being served")
    return request


def client_ip(request: Request) -> str:
    """The caller's IP as API Gateway (or chalice local) saw it."""
    identity = request.context.get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
