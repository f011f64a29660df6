"""Registration, login, token refresh and the user behind an access token."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import ratelimit
from chalicelib.accounts import tokens
from chalicelib.accounts.models import RefreshTokenRecord, UserKeyRecord, UserRecord
from chalicelib.accounts.passwords import hash_password, password_problems, verify_password
from chalicelib.config import settings
from chalicelib.db import CONDITION_FAILED_REASON, condition_failed, connection, utcnow
from chalicelib.emails import normalize_email
from chalicelib.errors import (
    AuthenticationError,
    ConflictError,
    TooManyAttemptsError,
    ValidationError,
)

log = logging.getLogger(__name__)

MAX_LOGIN_LENGTH = 254


@dataclass(frozen=True)
class TokenPair:
    """A fresh access token and the refresh token that replaces the one used."""

    access: str
    refresh: str


def email_key(email: str) -> str:
    return f"email#{email.lower()}"


def username_key(username: str) -> str:
    # Unique without regard to case or Unicode form: "Ana", "ana" and "ａｎａ" are one.
    return f"username#{unicodedata.normalize('NFKC', username).casefold()}"


def register(email: str, username: str, password: str) -> UserRecord:
    """Create an account; ``email`` must already be normalised.

    Raises :class:`ValidationError` for a weak password and
    :class:`ConflictError` naming ``email`` and/or ``username`` when taken.
    """
    problems = password_problems(password, username=username, email=email)
    if problems:
        raise ValidationError("The password cannot be used.", errors={"password": problems})
    user = UserRecord(
        user_id=uuid.uuid4().hex,
        email=email,
        username=username,
        password_hash=hash_password(password),
        token_version=0,
        created_at=utcnow(),
    )
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(user, condition=UserRecord.user_id.does_not_exist())
            for key in (email_key(email), username_key(username)):
                guard = UserKeyRecord(key, user_id=user.user_id)
                tx.save(guard, condition=UserKeyRecord.key.does_not_exist())
    except TransactWriteError as exc:
        raise _conflict(exc) from exc
    log.info("registered user %s", user.user_id)
    return user


def _conflict(exc: TransactWriteError) -> Exception:
    reasons = exc.cancellation_reasons or []
    if any(r is not None and r.code == "TransactionConflict" for r in reasons):
        return ConflictError(
            "Another registration with this email or username is in progress; try again."
        )
    taken = {
        field: ["An account with this " + field + " already exists."]
        for field, reason in zip(("user_id", "email", "username"), reasons, strict=False)
        if reason is not None and reason.code == CONDITION_FAILED_REASON and field != "user_id"
    }
    if not taken:
        return exc
    return ConflictError("The " + " and ".join(taken) + " is already taken.", errors=taken)


def find_user(login: str) -> UserRecord | None:
    """The user whose email (when ``login`` has an @) or username is ``login``."""
    if len(login) > MAX_LOGIN_LENGTH:
        return None
    key = email_key(_email_form(login)) if "@" in login else username_key(login)
    try:
        user_id = UserKeyRecord.get(key).user_id
        return UserRecord.get(user_id)
    except (UserKeyRecord.DoesNotExist, UserRecord.DoesNotExist):
        return None


def _email_form(login: str) -> str:
    """An address as registration stored it (normalised), or lower-cased if it does not parse."""
    try:
        return normalize_email(login)
    except ValueError:
        return login.strip().lower()


def log_in(login: str, password: str) -> TokenPair:
    """Tokens for the account named by ``login`` (username or email), if the password matches.

    Attempts are counted per account (username and email share one count)
    *before* the password is checked, with one atomic ADD, so parallel
    guesses cannot slip past the limit; a successful login gives its attempt
    back.
    """
    cfg = settings()
    if not login.strip():
        raise ValidationError.for_field("username", "Send your username or email.")
    name = login.strip()
    user = find_user(name)
    limit_key = user.user_id if user else name.casefold()
    window = ratelimit.hit("login", limit_key, window_minutes=cfg.rate_window_minutes)
    if window.count > cfg.login_failures_per_account:
        raise TooManyAttemptsError(
            "Too many failed logins for this account; try again later.",
            retry_after_seconds=window.retry_after_seconds,
        )
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise AuthenticationError(
            "The username/email or password is wrong.", code="invalid_credentials"
        )
    ratelimit.hit("login", limit_key, window_minutes=cfg.rate_window_minutes, amount=-1)
    log.info("user %s logged in", user.user_id)
    return issue_tokens(user)


def issue_tokens(user: UserRecord) -> TokenPair:
    """A new access/refresh pair; the refresh token is remembered until used."""
    access, _ = tokens.issue(user.user_id, int(user.token_version), "access")
    refresh, claims = tokens.issue(user.user_id, int(user.token_version), "refresh")
    RefreshTokenRecord(
        claims.token_id,
        user_id=user.user_id,
        expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
    ).save()
    return TokenPair(access=access, refresh=refresh)


def refresh_tokens(refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair; each refresh token works once.

    A refresh token presented a second time means it was copied: every
    session of the account is revoked, the thief's and the owner's.
    """
    claims = tokens.verify(refresh_token, "refresh")
    user = _current_user(claims)
    try:
        RefreshTokenRecord(claims.token_id).delete(condition=RefreshTokenRecord.token_id.exists())
    except DeleteError as exc:
        if not condition_failed(exc):
            raise
        revoke_all_tokens(user)
        log.warning("refresh token reused for user %s; all sessions revoked", user.user_id)
        raise AuthenticationError(
            "This refresh token was already used; sign in again.", code="token_reused"
        ) from exc
    return issue_tokens(user)


def authenticate(access_token: str) -> UserRecord:
    """The user an access token speaks for, or a 401 error."""
    return _current_user(tokens.verify(access_token, "access"))


def _current_user(claims: tokens.TokenClaims) -> UserRecord:
    try:
        user = UserRecord.get(claims.user_id)
    except UserRecord.DoesNotExist:
        raise AuthenticationError("The account no longer exists.", code="invalid_token") from None
    if int(user.token_version) != claims.token_version:
        raise AuthenticationError(
            "This token was revoked (password reset or a refresh token reused); sign in again.",
            code="token_revoked",
        )
    return user


def revoke_all_tokens(user: UserRecord) -> None:
    """Invalidate every token issued to ``user`` so far."""
    user.update(actions=[UserRecord.token_version.add(1)])
