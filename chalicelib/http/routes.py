"""Decorators every route wears under ``@bp.route``: ``public`` or ``authenticated``.

Both turn the services' :class:`~chalicelib.errors.AppError` into a problem
response; ``authenticated`` first checks the bearer token and hands the user
to the view as its first argument.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from chalice.app import Response

from chalicelib import logs
from chalicelib.accounts.models import UserRecord
from chalicelib.errors import AppError, AuthenticationError, ValidationError
from chalicelib.http.apidoc import AUTH_ATTRIBUTE
from chalicelib.http.context import current_request, set_user_id
from chalicelib.http.problems import from_app_error

P = ParamSpec("P")
R = TypeVar("R")


def public(view: Callable[P, R]) -> Callable[P, R | Response]:
    """A route anyone may call."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        try:
            return view(*args, **kwargs)
        except AppError as error:
            return from_app_error(error)

    setattr(wrapper, AUTH_ATTRIBUTE, False)
    return wrapper


def authenticated(view: Callable[Concatenate[UserRecord, P], R]) -> Callable[P, R | Response]:
    """A route that needs ``Authorization: Bearer <access token>``."""
    from chalicelib.accounts.service import authenticate

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        try:
            user = authenticate(bearer_token(current_request().headers.get("authorization")))
            logs.append_keys(user_id=user.user_id)
            set_user_id(user.user_id)
            return view(user, *args, **kwargs)
        except AppError as error:
            return from_app_error(error)

    setattr(wrapper, AUTH_ATTRIBUTE, True)
    return wrapper


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header, or a 401 error."""
    if not header:
        raise AuthenticationError("Send 'Authorization: Bearer <access token>'.")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Send 'Authorization: Bearer <access token>'.")
    return token.strip()


def created(body: Any) -> Response:
    return Response(body=body, status_code=201)


def accepted(body: Any) -> Response:
    return Response(body=body, status_code=202)


def no_content() -> Response:
    return Response(body="", status_code=204)


def directory_filter(params: dict[str, str]) -> str:
    """The ``?directory=`` (or ``?directory_id=``) a listing is filtered by; 400 without one."""
    directory_id = params.get("directory") or params.get("directory_id")
    if not directory_id:
        raise ValidationError.for_field("directory", "Say which directory: ?directory=<id>.")
    return directory_id
