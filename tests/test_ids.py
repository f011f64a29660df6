"""Ids: the ULID text layout, ordered by time, unique."""

from __future__ import annotations

from chalicelib.ids import _encode, id_for, looks_like_id, new_id


def test_ids_are_ulid_text_of_their_time_and_randomness() -> None:
    # The ULID specification's example: 1469918176385 ms is "01ARYZ6S41".
    assert _encode(1469918176385 << 80) == "01ARYZ6S41" + "0" * 16
    assert _encode(2**128 - 1) == "7" + "Z" * 25
    assert _encode(31) == "0" * 25 + "Z"
    assert id_for(1469918176385, b"seed")[:10] == "01ARYZ6S41"


def test_ids_made_in_a_row_are_unique_and_sort_in_the_order_made() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(looks_like_id(value) for value in ids)
