"""Cursor pagination: ``?cursor=`` and ``?page_size=`` in, a page object out.

A page is one DynamoDB query: it asks for one item more than the page holds,
so ``next`` is set only when another item really exists and the last page
is never an empty page with a ``next``. The cursor is the position after
the page's last item, as JSON, signed so a client cannot hand DynamoDB a
key of its own making, nor one issued for another listing (a bad cursor is
a 400, never a 500).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from chalicelib.config import jwt_secret
from chalicelib.errors import ValidationError
from chalicelib.http.context import request_scope

if TYPE_CHECKING:
    from chalice.app import Request

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_SIGNATURE_BYTES = 16

T = TypeVar("T")
DynamoKey = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PageRequest:
    """Where a page starts (``None``: the beginning) and how many items it holds."""

    start_key: DynamoKey | None
    page_size: int


@dataclass(frozen=True)
class Page:
    """The items of one page and the key to continue after them, if any."""

    items: list[Any]
    next_key: DynamoKey | None


def page_request(query_params: Mapping[str, str] | None) -> PageRequest:
    """The page asked for by ``?cursor=`` and ``?page_size=``; 400 naming the bad one."""
    params = query_params or {}
    raw_size = params.get("page_size")
    size = DEFAULT_PAGE_SIZE
    if raw_size is not None and raw_size != "":
        digits = raw_size.strip()
        # isdigit() alone accepts "²" and "٣", which int() refuses or reads oddly.
        if not (digits.isascii() and digits.isdigit()) or not 1 <= int(digits) <= MAX_PAGE_SIZE:
            raise ValidationError.for_field(
                "page_size", f"Use a whole number from 1 to {MAX_PAGE_SIZE}."
            )
        size = int(digits)
    cursor = params.get("cursor")
    return PageRequest(start_key=decode_cursor(cursor) if cursor else None, page_size=size)


def fetch_page(
    query: Callable[[int, DynamoKey | None], Iterable[T]],
    request: PageRequest,
    key_of: Callable[[T], DynamoKey],
) -> Page:
    """Run ``query(limit, start_key)`` once, for one item more than the page holds."""
    items: list[T] = []
    for item in query(request.page_size + 1, request.start_key):
        items.append(item)
        if len(items) > request.page_size:
            break
    if len(items) <= request.page_size:
        return Page(items=items, next_key=None)
    kept = items[: request.page_size]
    return Page(items=kept, next_key=key_of(kept[-1]))


def model_key(item: Any, attributes: Sequence[str]) -> DynamoKey:
    """The DynamoDB key of a PynamoDB ``item`` made of ``attributes`` (table and index keys)."""
    serialized: dict[str, dict[str, Any]] = item.serialize()
    return {name: serialized[name] for name in attributes}


def page_body(
    page: Page,
    results: list[Any],
    request: Request,
    *,
    count: int | None = None,
) -> dict[str, Any]:
    """The page object of the API: ``{count, next, previous, results}``."""
    next_url = None
    if page.next_key is not None:
        params = dict(request.query_params or {})
        params["cursor"] = encode_cursor(page.next_key)
        next_url = f"{base_url(request)}?{urlencode(params)}"
    return {"count": count, "next": next_url, "previous": None, "results": results}


def base_url(request: Request) -> str:
    """The absolute URL of this route as the client called it (stage prefix included)."""
    headers = request.headers
    proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip() or "http"
    host = headers.get("host", "localhost")
    path = (request.context or {}).get("path") or request.path
    return f"{proto}://{host}{path.rstrip('/')}"


def encode_cursor(key: DynamoKey) -> str:
    payload = json.dumps(key, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _b64(_sign(payload) + payload)


def decode_cursor(cursor: str) -> DynamoKey:
    """The key inside a cursor this API issued; a 400 for anything else."""
    invalid = ValidationError.for_field("cursor", "This cursor is not one this API issued.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise invalid from None
    signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
    if len(signature) < _SIGNATURE_BYTES or not hmac.compare_digest(signature, _sign(payload)):
        raise invalid
    try:
        key: DynamoKey = json.loads(payload)
    except ValueError:
        raise invalid from None
    return key


def _sign(payload: bytes) -> bytes:
    # Signed with the listing it belongs to: a cursor replayed on another
    # route, filter or user is refused (DynamoDB would fail on its key).
    secret = hashlib.sha256(b"page-cursor:" + jwt_secret().encode("utf-8")).digest()
    scoped = request_scope().encode("utf-8") + b"\0" + payload
    return hmac.new(secret, scoped, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
