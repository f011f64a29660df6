"""The request being served, for the decorators that need it.

Chalice hands the request to middleware, not to views; the middleware
stores it here so :func:`chalicelib.http.auth.authenticated` can read its
``Authorization`` header without each route passing it along.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalice.app import Request

_current: ContextVar[Request | None] = ContextVar("current_request", default=None)
_user_id: ContextVar[str | None] = ContextVar("current_user_id", default=None)


def set_request(request: Request | None) -> None:
    _current.set(request)
    _user_id.set(None)


def set_user_id(user_id: str | None) -> None:
    """Remember who the request is from (set by ``authenticated``)."""
    _user_id.set(user_id)


def request_scope() -> str:
    """Who is asking for which listing: the user, the route and its filters.

    Empty outside a request. Cursors are signed with it, so a cursor works
    only for the listing that issued it.
    """
    request = _current.get()
    if request is None:
        return ""
    filters = sorted(
        (name, value)
        for name, value in (request.query_params or {}).items()
        if name not in ("cursor", "page_size")
    )
    return json.dumps([_user_id.get(), request.path.rstrip("/"), filters])


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
