"""Reading request bodies: size, Unicode, JSON and the route's model.

Every way a body can be wrong ends in a 400/413 problem naming the field;
none reaches a service half-checked.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.config import settings
from chalicelib.errors import MalformedRequestError, PayloadTooLargeError, ValidationError

if TYPE_CHECKING:
    from chalice.app import Request
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")


def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/413 problem."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    limit = settings().max_json_body_bytes
    if len(raw) > limit:
        raise PayloadTooLargeError(f"The body is {len(raw)} bytes; this route accepts {limit}.")
    if not raw.strip():
        raise MalformedRequestError("The body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
        # Lone surrogates ("\ud800") parse but cannot be stored or hashed:
        # re-encoding finds them here instead of deep inside a service.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeError as exc:
        raise MalformedRequestError("The body is not valid UTF-8 text.") from exc
    except (ValueError, RecursionError) as exc:
        raise MalformedRequestError(f"The body is not valid JSON: {_short(exc)}") from exc
    if not isinstance(data, dict):
        raise MalformedRequestError("The body must be a JSON object.")
    return data


def parse_body(request: Request, model: type[M]) -> M:
    """The body validated against ``model``; field errors become one 400."""
    return validate(model, read_json_object(request))


def validate(model: type[M], data: dict[str, Any]) -> M:
    """``data`` as ``model``, or a :class:`ValidationError` listing every bad field."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for item in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in item["loc"]) or "body"
            errors.setdefault(field, []).append(_message(item))
        fields = ", ".join(errors)
        raise ValidationError(f"Invalid value for: {fields}.", errors=errors) from None


def _message(item: Any) -> str:
    kind = item["type"]
    if kind == "missing":
        return "This field is required."
    message = str(item["msg"])
    # pydantic prefixes messages of custom validators with "Value error, ".
    return message.removeprefix("Value error, ")


def _short(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:200]
