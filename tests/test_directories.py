"""Directories: CRUD, exact contact counts, delete that scales, isolation."""

from __future__ import annotations

import pytest

from tests.conftest import User, run_queue

DIRS = "/api/directory/directories"


def test_can_create_get_rename_and_list(ana: User) -> None:
    status, created, _ = ana.post(DIRS, {"name": "  Clients   2026 "})
    assert status == 201
    assert created["name"] == "Clients 2026"
    assert created["contact_count"] == 0
    assert ana.get(f"{DIRS}/{created['id']}")[1] == created
    status, body, _ = ana.put(f"{DIRS}/{created['id']}", {"name": "Clients"})
    assert (status, body["name"]) == (200, "Clients")
    status, body, _ = ana.patch(f"{DIRS}/{created['id']}/", {"name": "Leads"})
    assert (status, body["name"]) == (200, "Leads")
    status, page, _ = ana.get(DIRS)
    assert status == 200
    assert [d["name"] for d in page["results"]] == ["Leads"]
    assert page["next"] is None


def test_list_pages_in_creation_order(ana: User) -> None:
    names = [f"list {n}" for n in range(7)]
    for name in names:
        ana.new_directory(name)
    seen = []
    url = f"{DIRS}?page_size=3"
    while url:
        status, page, _ = ana.get(url)
        assert status == 200 and page["results"]
        seen += [d["name"] for d in page["results"]]
        url = page["next"] and page["next"].split("://", 1)[1].split("/", 1)[1]
        url = url and "/" + url
    assert seen == names


def test_contact_count_is_exact(ana: User) -> None:
    directory = ana.new_directory()
    ids = [ana.new_contact(directory, email=f"p{n}@example.com")["id"] for n in range(3)]
    ana.delete(f"/api/contacts/contacts/{ids[0]}")
    assert (
        ana.post("/api/contacts/contacts", {"directory": directory, "email": "p1@example.com"})[0]
        == 409
    )
    assert ana.get(f"{DIRS}/{directory}")[1]["contact_count"] == 2


def test_delete_hides_contacts_at_once_and_purges_them(ana: User) -> None:
    from chalicelib.contacts.models import ContactRecord

    directory = ana.new_directory()
    contact = ana.new_contact(directory, email="gone@example.com")
    status, body, _ = ana.delete(f"{DIRS}/{directory}")
    assert (status, body) == (204, None)
    assert ana.get(f"{DIRS}/{directory}")[0] == 404
    assert ana.get(f"/api/contacts/contacts/{contact['id']}")[0] == 404
    assert ana.get(f"/api/contacts/contacts?directory={directory}")[0] == 404
    assert ana.delete(f"{DIRS}/{directory}")[0] == 404
    assert run_queue("cleanup") == 1
    assert list(ContactRecord.scan()) == []


def test_purge_of_a_large_directory_continues_in_new_messages(
    ana: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.contacts.models import ContactRecord, partition
    from chalicelib.db import utcnow
    from chalicelib.directories import cleanup

    directory = ana.new_directory()
    now = utcnow()
    with ContactRecord.batch_write() as batch:
        for n in range(250):
            batch.save(
                ContactRecord(
                    partition(ana.id, directory),
                    f"n#{n:026d}",
                    contact_id=f"{n:026d}",
                    directory_id=directory,
                    first_name=f"n{n}",
                    created_at=now,
                    updated_at=now,
                )
            )
    monkeypatch.setattr(cleanup, "ITEMS_PER_MESSAGE", 100)
    monkeypatch.setattr(cleanup, "_QUERY_PAGE", 100)
    ana.delete(f"{DIRS}/{directory}")
    assert run_queue("cleanup") == 3  # 100 + 100 + 50, each message queues the next
    assert list(ContactRecord.scan()) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": None}, "name"),
    ],
)
def test_error_on_bad_name(ana: User, body: dict[str, object], field: str) -> None:
    status, problem, _ = ana.post(DIRS, body)
    assert status == 400
    assert field in problem["errors"]


def test_other_users_directory_is_404_on_every_route(ana: User, bruno: User) -> None:
    directory = ana.new_directory()
    ana.new_contact(directory, email="x@example.com")
    path = f"{DIRS}/{directory}"
    assert bruno.get(path)[0] == 404
    assert bruno.put(path, {"name": "mine"})[0] == 404
    assert bruno.patch(path, {"name": "mine"})[0] == 404
    assert bruno.delete(path)[0] == 404
    assert bruno.get(DIRS)[1]["results"] == []
    assert bruno.get(f"/api/contacts/contacts?directory={directory}")[0] == 404
    status, _, _ = bruno.post(
        "/api/contacts/contacts", {"directory": directory, "email": "y@example.com"}
    )
    assert status == 404
    assert ana.get(path)[1]["name"] == "Customers"
    assert ana.get(path)[1]["contact_count"] == 1


def test_unknown_or_malformed_ids_are_404(ana: User) -> None:
    for directory in ("nope", "0" * 26, "%00", "a" * 300):
        assert ana.get(f"{DIRS}/{directory}")[0] == 404
