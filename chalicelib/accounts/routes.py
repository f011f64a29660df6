"""HTTP routes of accounts: /api/accounts/…"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.accounts import reset, service
from chalicelib.accounts.models import UserRecord
from chalicelib.errors import (
    AuthenticationError,
    ConflictError,
    InvalidResetCodeError,
    TooManyAttemptsError,
)
from chalicelib.http.apidoc import documented
from chalicelib.http.bodies import parse_body
from chalicelib.http.context import client_ip, current_request
from chalicelib.http.routes import accepted, authenticated, created, public
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.accounts import schemas
    from chalicelib.http import shapes
else:
    schemas = lazy_module("chalicelib.accounts.schemas")
    shapes = lazy_module("chalicelib.http.shapes")

bp = Blueprint(__name__)

# One fixed body for every reset request: known and unknown addresses must
# get the same bytes.
RESET_REQUESTED_BODY = {
    "detail": "If an account uses this email, a reset code is on its way. It works for 10 minutes."
}


def user_out(user: UserRecord) -> dict[str, Any]:
    return schemas.UserOut(
        id=user.user_id, email=user.email, username=user.username, date_joined=user.created_at
    ).model_dump(mode="json")


def tokens_out(pair: service.TokenPair) -> Response:
    body = schemas.TokenPairOut(access=pair.access, refresh=pair.refresh).model_dump()
    # RFC 6749 5.1: responses carrying tokens must not be cached.
    return Response(body=body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@bp.route("/register", methods=["POST"])
@documented(
    "Create an account",
    body=lambda: schemas.RegisterBody,
    response=lambda: schemas.UserOut,
    status=201,
    errors=(ConflictError,),
    description="409 when the email or the username is taken.",
)
@public
def register() -> Any:
    body = parse_body(current_request(), schemas.RegisterBody)
    return created(user_out(service.register(body.email, body.username, body.password)))


@bp.route("/login", methods=["POST"])
@documented(
    "Sign in with a username or email and a password",
    body=lambda: schemas.LoginBody,
    response=lambda: schemas.TokenPairOut,
    errors=(AuthenticationError, TooManyAttemptsError),
    description="10 failed logins per account in 15 minutes give 429 with Retry-After.",
)
@public
def login() -> Any:
    body = parse_body(current_request(), schemas.LoginBody)
    return tokens_out(service.log_in(body.login, body.password))


@bp.route("/token/refresh", methods=["POST"])
@documented(
    "Trade a refresh token for a new pair (each refresh token works once)",
    body=lambda: schemas.RefreshBody,
    response=lambda: schemas.TokenPairOut,
    errors=(AuthenticationError,),
)
@public
def refresh() -> Any:
    body = parse_body(current_request(), schemas.RefreshBody)
    return tokens_out(service.refresh_tokens(body.refresh))


@bp.route("/me", methods=["GET"])
@documented("The signed-in user", response=lambda: schemas.UserOut)
@authenticated
def me(user: UserRecord) -> Any:
    return user_out(user)


@bp.route("/password/reset/request", methods=["POST"])
@documented(
    "Email a password-reset code",
    body=lambda: schemas.ResetRequestBody,
    response=lambda: shapes.Message,
    status=202,
    errors=(TooManyAttemptsError,),
    description="The same answer whether or not the email has an account.",
)
@public
def request_password_reset() -> Any:
    request = current_request()
    body = parse_body(request, schemas.ResetRequestBody)
    reset.request_reset(body.email, client_ip(request))
    return accepted(RESET_REQUESTED_BODY)


@bp.route("/password/reset/confirm", methods=["POST"])
@documented(
    "Set a new password with the emailed code",
    body=lambda: schemas.ResetConfirmBody,
    response=lambda: shapes.Message,
    errors=(InvalidResetCodeError, TooManyAttemptsError),
    description="5 wrong codes end the code (429); request a new one.",
)
@public
def confirm_password_reset() -> Any:
    body = parse_body(current_request(), schemas.ResetConfirmBody)
    reset.confirm_reset(
        email=body.email, user_id=body.user_id, code=body.code, new_password=body.new_password
    )
    return {"detail": "Your password was changed. Sign in again on every device."}
