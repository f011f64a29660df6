"""Fixed-window counters in DynamoDB, for limits on attempts.

One atomic ``ADD`` per hit, so concurrent Lambdas share the count; items
expire with the window through the table's TTL.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db import table_meta


class RateLimitRecord(Model):
    """The number of hits on one key in one window."""

    Meta = table_meta("rate_limits")

    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class Window:
    """The state of a key's current window after a hit."""

    count: int
    retry_after_seconds: int


def _item_key(scope: str, key: str, start: int) -> str:
    # Hashed: whatever a client sends, the DynamoDB key stays small (and no
    # email address or IP sits in the table in clear).
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{scope}#{digest}#{start}"


def hit(scope: str, key: str, *, window_minutes: int, amount: int = 1) -> Window:
    """Count ``amount`` hits on ``scope:key`` in the current window and return the count."""
    window = window_minutes * 60
    now = int(time.time())
    start = now - now % window
    record = RateLimitRecord(_item_key(scope, key, start))
    # update() reads back every attribute, so record.hits is the new total.
    record.update(
        actions=[
            RateLimitRecord.hits.add(amount),
            RateLimitRecord.expires_at.set(datetime.fromtimestamp(start + window, UTC)),
        ]
    )
    return Window(count=int(record.hits), retry_after_seconds=max(1, start + window - now))
