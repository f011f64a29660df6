"""Identifiers that sort by creation time (ULID layout: 48-bit ms time + 80 random bits).

Lists keyed by them come back oldest first with no extra index.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32


_lock = threading.Lock()
_last = 0


def new_id() -> str:
    """A 26-character, time-ordered, URL-safe id.

    Monotonic within a process, as the ULID spec allows: ids made in the
    same millisecond count up from a random start, so contacts imported
    from one file list in the file's order.
    """
    return _encode(_reserve(1))


def new_ids(count: int) -> list[str]:
    """``count`` ids in a row, as ``count`` calls of :func:`new_id` would give, for one lock."""
    if count <= 0:
        return []
    first = _reserve(count)
    return [_encode(value) for value in range(first, first + count)]


def _reserve(count: int) -> int:
    """The first of ``count`` consecutive id values, taken under the lock."""
    global _last
    millis = time.time_ns() // 1_000_000
    with _lock:
        # A new millisecond draws fresh randomness (one system call per
        # millisecond, not one per id, in a bulk import); the same
        # millisecond (or a clock that went back) counts on from the last id.
        first = millis << 80 | secrets.randbits(80) if millis > _last >> 80 else _last + 1
        _last = first + count - 1
    return first


def id_for(millis: int, seed: bytes) -> str:
    """The id :func:`new_id` would give at ``millis``, with randomness taken from ``seed``.

    The same event always gets the same id, so a redelivered or replayed
    event finds the job it created the first time.
    """
    random_part = int.from_bytes(hashlib.sha256(seed).digest()[:10], "big")
    return _encode(millis << 80 | random_part)


# Every 10-bit value as its two characters: an id is 13 pairs, one lookup each
# (a loop of 26 divisions was most of the cost of an imported row's id).
_PAIRS = [high + low for high in _ALPHABET for low in _ALPHABET]
_SHIFTS = tuple(range(120, -1, -10))  # 130 bits, most significant first (the top two are 0)


def _encode(value: int) -> str:
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 0x3FF] for shift in _SHIFTS])


def looks_like_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id from :func:`new_id`."""
    return len(value) == 26 and all(c in _ALPHABET for c in value)
