"""Subject and body templates: Jinja2 in its sandbox, checked on save, rendered per contact.

A template sees the contact's ``first_name``, ``last_name``, ``email``,
``phone`` and ``extra`` (``{{ extra.company }}``); a field the contact lacks
renders empty. Jinja2 is imported on first use: the API's cold start never
pays for it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ValidationError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment


class RenderError(Exception):
    """A template that failed for one contact (an unsafe call, a bad filter argument …)."""


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import SandboxedEnvironment

    # Plain text out (no HTML escaping); a missing field or key is empty,
    # not an error, since contacts rarely all have the same extra fields.
    return SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)


def check(source: str, field: str) -> None:
    """Refuse a template that does not parse, naming ``field`` and the line."""
    from jinja2 import TemplateSyntaxError

    try:
        _environment().parse(source)
    except TemplateSyntaxError as exc:
        raise ValidationError.for_field(
            field, f"Template error on line {exc.lineno}: {exc.message}"
        ) from None


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    return _environment().from_string(source)


def render(source: str, fields: dict[str, Any]) -> str:
    """``source`` rendered with a contact's fields; :class:`RenderError` says what failed."""
    if "{" not in source:
        return source
    try:
        return _compiled(source).render(fields)
    except Exception as exc:
        # Anything a template can do wrong at render time (SecurityError,
        # TypeError in a filter, a syntax error saved before this check)
        # belongs to this one contact's delivery, never to the batch.
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc


def contact_fields(
    first_name: str, last_name: str, email: str | None, phone: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    """The names a template may use, from a contact's values."""
    return {
        "first_name": first_name,
        "last_name": last_name,
        "email": email or "",
        "phone": phone or "",
        "extra": dict(extra or {}),
    }
