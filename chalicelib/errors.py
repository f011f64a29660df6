"""Every error the services raise on purpose, under one base class.

Services raise these without knowing about HTTP; the route layer
(:mod:`chalicelib.http.problems`) turns each into an RFC 9457 problem with
the status, a stable ``code`` and, for invalid input, ``errors`` by field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class AppError(Exception):
    """Base of the errors a client can cause; ``status`` is its HTTP status."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = {field: list(messages) for field, messages in (errors or {}).items()}
        self.headers = dict(headers or {})
        # Extension members of the problem document (e.g. ``existing_id``).
        self.members = members


class ValidationError(AppError):
    """The request is well-formed but a field's value is not acceptable."""

    status = 400
    code = "validation_error"
    title = "Invalid input"

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationError:
        return cls(f"{field}: {message}", errors={field: [message]})


class MalformedRequestError(AppError):
    """The body cannot be read at all (not JSON, not an object, bad Unicode)."""

    status = 400
    code = "malformed_request"
    title = "Malformed request"


class PayloadTooLargeError(AppError):
    """The body is larger than the route accepts."""

    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class ExportTooLargeError(AppError):
    """A directory too large to export within one API response: use an export job."""

    status = 413
    code = "export_too_large"
    title = "Too large for a direct download"


class ExportNotPossibleError(AppError):
    """The directory cannot be written in the format asked for (say, too many columns)."""

    status = 422
    code = "export_not_possible"
    title = "Cannot be exported in this format"


class UnsupportedMediaTypeError(AppError):
    """The body is not of a type this route reads."""

    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class AuthenticationError(AppError):
    """No valid credentials: missing, malformed, forged or expired token, or wrong password."""

    status = 401
    code = "not_authenticated"
    title = "Not authenticated"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="clean-crm"'})
        if code:
            self.code = code


class NotFoundError(AppError):
    """The item does not exist, or belongs to someone else (never told apart)."""

    status = 404
    code = "not_found"
    title = "Not found"


class ConflictError(AppError):
    """The request clashes with existing state (taken email, second queue call …)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidResetCodeError(AppError):
    """A password-reset code is wrong, expired, used or unknown (never told apart)."""

    status = 400
    code = "invalid_reset_code"
    title = "Invalid or expired code"


class TooManyAttemptsError(AppError):
    """A limit on attempts was reached: wait, or for reset codes request a new one."""

    status = 429
    code = "too_many_attempts"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after_seconds: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after_seconds)} if retry_after_seconds else None
        super().__init__(detail, headers=headers)
