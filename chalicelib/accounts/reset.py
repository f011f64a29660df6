"""Password reset by a 6-digit code sent by email.

The API only queues the request: the same single SQS write happens for a
known and an unknown address, so the answer is the same in bytes and in
time and tells nobody which addresses have accounts. The notifications
handler then looks the address up and, if it has an account, emails a code.

A code is drawn with ``secrets``, stored as an HMAC (never in clear), lives
``RESET_CODE_MINUTES``, works once, is replaced by a newer one, and dies
after ``RESET_CODE_MAX_ATTEMPTS`` tries. Each try is counted atomically
*before* the comparison, so parallel guesses cannot exceed the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib import queues, ratelimit
from chalicelib.accounts.models import ResetCodeRecord, UserRecord
from chalicelib.accounts.passwords import hash_password, password_problems
from chalicelib.accounts.service import find_user
from chalicelib.channels.email import send_email
from chalicelib.config import jwt_secret, settings
from chalicelib.db import condition_failed, utcnow
from chalicelib.emails import normalize_email
from chalicelib.errors import InvalidResetCodeError, TooManyAttemptsError, ValidationError

log = logging.getLogger(__name__)

RESET_REQUESTED = "password_reset_requested"
# The user id an unknown account's tries are counted against: no code ever exists there.
_NOBODY = "-"


def request_reset(email: str, client_ip: str) -> None:
    """Queue a reset for ``email``; says nothing about whether it has an account."""
    cfg = settings()
    try:
        address = normalize_email(email)
    except ValueError as exc:
        raise ValidationError.for_field("email", str(exc)) from None
    window = ratelimit.hit("reset-ip", client_ip, window_minutes=cfg.rate_window_minutes)
    if window.count > cfg.reset_requests_per_ip:
        raise TooManyAttemptsError(
            "Too many reset requests from this address; try again later.",
            retry_after_seconds=window.retry_after_seconds,
        )
    queues.send("notifications", {"kind": RESET_REQUESTED, "email": address})


def send_reset_code(email: str) -> None:
    """Email a fresh code to ``email`` if it has an account (the queue's worker)."""
    cfg = settings()
    window = ratelimit.hit("reset-email", email, window_minutes=cfg.rate_window_minutes)
    if window.count > cfg.reset_requests_per_email:
        log.warning("reset request over the per-address limit; no code sent")
        return
    user = find_user(email)
    if user is None:
        log.info("reset requested for an address with no account; nothing sent")
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    ResetCodeRecord(
        user.user_id,
        code_hash=_code_hash(user.user_id, code),
        attempts=0,
        expires_at=utcnow() + timedelta(minutes=cfg.reset_code_minutes),
    ).save()
    send_email(
        user.email,
        "Your Clean CRM password reset code",
        f"Your password reset code is {code}. It works once, for "
        f"{cfg.reset_code_minutes} minutes. If you did not ask for it, ignore this email.",
    )
    log.info("reset code sent to user %s", user.user_id)


def confirm_reset(*, email: str | None, user_id: str | None, code: str, new_password: str) -> None:
    """Set a new password with a valid code, and revoke every older token.

    Nothing about the account is told before the code is verified: a
    password that repeats the username is only refused after that (the code
    stays usable), and an unknown account spends a try on a code that does
    not exist, like a known one without a code.
    """
    # Rules that need no account first: they say nothing about anyone.
    problems = password_problems(new_password)
    if problems:
        raise ValidationError("The new password cannot be used.", errors={"new_password": problems})
    user = _account(email, user_id)
    record = _count_attempt(user.user_id if user else _NOBODY)
    if user is None or record.expires_at < utcnow():
        raise InvalidResetCodeError("The code is wrong or has expired.")
    if not hmac.compare_digest(record.code_hash, _code_hash(user.user_id, code.strip())):
        raise InvalidResetCodeError("The code is wrong or has expired.")
    problems = password_problems(new_password, username=user.username, email=user.email)
    if problems:
        raise ValidationError("The new password cannot be used.", errors={"new_password": problems})
    try:
        # Single use: of two requests racing with the right code, one wins.
        record.delete(condition=ResetCodeRecord.code_hash == record.code_hash)
    except DeleteError:
        raise InvalidResetCodeError("The code is wrong or has expired.") from None
    user.update(
        actions=[
            UserRecord.password_hash.set(hash_password(new_password)),
            UserRecord.password_changed_at.set(utcnow()),
            UserRecord.token_version.add(1),
        ]
    )
    log.info("password reset for user %s; older tokens revoked", user.user_id)


def _account(email: str | None, user_id: str | None) -> UserRecord | None:
    if email and email.strip():
        return find_user(email.strip())
    if user_id and user_id.strip():
        try:
            return UserRecord.get(user_id.strip())
        except UserRecord.DoesNotExist:
            return None
    raise ValidationError.for_field("email", "Send the account's email (or user_id).")


def _count_attempt(user_id: str) -> ResetCodeRecord:
    """Spend one try on the user's code; 400 without a code, 429 when spent."""
    cfg = settings()
    record = ResetCodeRecord(user_id)
    try:
        record.update(
            actions=[ResetCodeRecord.attempts.add(1)],
            condition=ResetCodeRecord.user_id.exists()
            & (ResetCodeRecord.attempts < cfg.reset_code_max_attempts),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        try:
            current = ResetCodeRecord.get(user_id, consistent_read=True)
        except ResetCodeRecord.DoesNotExist:
            raise InvalidResetCodeError("The code is wrong or has expired.") from None
        if int(current.attempts) < cfg.reset_code_max_attempts:
            # A new code arrived between the update and this read: this try
            # was made against no code at all.
            raise InvalidResetCodeError("The code is wrong or has expired.") from None
        raise TooManyAttemptsError(
            "Too many wrong codes: this code no longer works. Request a new one."
        ) from None
    return record


def _code_hash(user_id: str, code: str) -> str:
    # Keyed by a key derived from the server secret: a leaked table alone
    # does not let anyone try the million codes offline.
    key = hashlib.sha256(b"reset-code:" + jwt_secret().encode("utf-8")).digest()
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()
