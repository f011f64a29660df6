"""Cursor pagination walks a partition once, item by item, with no phantom page."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db import table_meta
from chalicelib.errors import ValidationError
from chalicelib.http.pagination import (
    PageRequest,
    decode_cursor,
    encode_cursor,
    fetch_page,
    model_key,
    page_request,
)
from tests.conftest import User


class Item(Model):
    Meta = table_meta("pagination_test_items")

    owner_id = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)
    n = NumberAttribute()


@pytest.fixture
def items(aws: None) -> None:
    Item.create_table(wait=True)
    with Item.batch_write() as batch:
        for n in range(23):
            batch.save(Item("me", f"{n:04d}", n=n))
        batch.save(Item("someone-else", "0000", n=-1))


def walk(page_size: int) -> list[list[int]]:
    pages: list[list[int]] = []
    start = None
    while True:
        page = fetch_page(
            lambda limit, key: Item.query("me", limit=limit, last_evaluated_key=key),
            PageRequest(start_key=start, page_size=page_size),
            lambda item: model_key(item, ["owner_id", "item_id"]),
        )
        pages.append([int(i.n) for i in page.items])
        if page.next_key is None:
            return pages
        start = decode_cursor(encode_cursor(page.next_key))


@pytest.mark.parametrize("page_size", [1, 5, 22, 23, 24, 500])
def test_walk_returns_every_item_once_and_no_empty_page(items: None, page_size: int) -> None:
    pages = walk(page_size)
    assert [n for page in pages for n in page] == list(range(23))
    assert all(pages), pages  # no empty page, not even the last
    assert len(pages) == -(-23 // page_size)


@pytest.mark.parametrize("value", ["0", "501", "-1", "ten", "1.5", " "])
def test_error_on_bad_page_size(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        page_request({"page_size": value})
    assert list(caught.value.errors) == ["page_size"]


@pytest.mark.parametrize("cursor", ["garbage", "é", "AAAA", "=" * 9, "eyJhIjoxfQ"])
def test_error_on_forged_cursor(cursor: str) -> None:
    with pytest.raises(ValidationError) as caught:
        page_request({"cursor": cursor})
    assert list(caught.value.errors) == ["cursor"]


def test_tampered_cursor_is_refused() -> None:
    cursor = encode_cursor({"owner_id": {"S": "me"}, "item_id": {"S": "0004"}})
    forged = encode_cursor({"owner_id": {"S": "other"}, "item_id": {"S": "0004"}})
    assert decode_cursor(cursor)["owner_id"] == {"S": "me"}
    spliced = forged[:10] + cursor[10:]
    with pytest.raises(ValidationError):
        decode_cursor(spliced)


def test_defaults() -> None:
    request: Any = page_request({})
    assert (request.start_key, request.page_size) == (None, 50)


def test_error_on_a_cursor_replayed_on_another_listing(ana: User, bruno: User) -> None:
    first, second = ana.new_directory("First"), ana.new_directory("Second")
    for n in range(3):
        ana.new_contact(first, email=f"p{n}@example.com")
    _, page, _ = ana.get(f"/api/contacts/contacts?directory={first}&page_size=1")
    cursor = page["next"].split("cursor=")[1]
    for path in (
        f"/api/contacts/contacts?directory={second}&cursor={cursor}",  # another filter
        f"/api/directory/directories?cursor={cursor}",  # another route
        f"/api/contacts/imports?directory={first}&cursor={cursor}",
    ):
        status, problem, _ = ana.get(path)
        assert status == 400, (path, problem)
        assert "cursor" in problem["errors"]
    status, _, _ = bruno.get(f"/api/contacts/contacts?directory={first}&cursor={cursor}")
    assert status in (400, 404)  # another user: never their page, never a 500
    status, again, _ = ana.get(
        f"/api/contacts/contacts?directory={first}&page_size=1&cursor={cursor}"
    )
    assert status == 200 and again["results"]


@pytest.mark.parametrize("size", ["²", "٣", "1e2", "-1", "0", "501", " 5x"])
def test_error_on_a_page_size_that_is_not_a_plain_number(ana: User, size: str) -> None:
    from urllib.parse import quote

    status, problem, _ = ana.get(f"/api/directory/directories?page_size={quote(size)}")
    assert status == 400 and "page_size" in problem["errors"]
