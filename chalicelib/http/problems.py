"""RFC 9457 problem responses: the only error shape the API sends."""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Response

from chalicelib.errors import AppError

PROBLEM_CONTENT_TYPE = "application/problem+json"
# What a deployed stage's API Gateway (and the local stack) says for a path
# or method no route serves.
NO_ROUTE_DETAIL = "No route matches this method and path."

# Chalice and API Gateway produce a few errors before our code runs (405, 415,
# unhandled exceptions); the middleware maps their names to our codes.
_CHALICE_CODES = {
    "MethodNotAllowedError": ("method_not_allowed", "Method not allowed"),
    "UnsupportedMediaType": ("unsupported_media_type", "Unsupported media type"),
    "BadRequestError": ("malformed_request", "Malformed request"),
    "BadRequest": ("bad_request", "Bad request"),
    "NotFoundError": ("not_found", "Not found"),
    "InternalServerError": ("internal_error", "Internal server error"),
}


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str | list[str]] | None = None,
    members: dict[str, Any] | None = None,
) -> Response:
    """A Chalice response whose body is an ``application/problem+json`` document."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    for name, value in (members or {}).items():
        body.setdefault(name, value)
    all_headers: dict[str, str | list[str]] = {
        "Content-Type": PROBLEM_CONTENT_TYPE,
        **(headers or {}),
    }
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers=all_headers,
    )


def from_app_error(error: AppError) -> Response:
    """The problem response for a domain error."""
    return problem_response(
        error.status,
        error.code,
        error.title,
        error.detail,
        errors=error.errors or None,
        headers=dict(error.headers) or None,
        members=error.members or None,
    )


def internal_error() -> Response:
    """A 500 that says nothing about the cause (the log has it)."""
    return problem_response(
        500, "internal_error", "Internal server error", "An unexpected error occurred."
    )


def from_chalice_error(response: Response) -> Response:
    """Rewrite one of Chalice's own ``{Code, Message}`` errors as a problem.

    Responses that are not Chalice's error shape are returned unchanged.
    """
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    code, title = _CHALICE_CODES.get(str(body["Code"]), ("error", "Error"))
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    detail = str(body.get("Message", title))
    if response.status_code >= 500:
        detail = "An unexpected error occurred."
    return problem_response(response.status_code, code, title, detail, headers=headers)
