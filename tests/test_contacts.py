"""Contacts: CRUD, normalisation, one per email, subscriptions, isolation, hostile bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import User

CONTACTS = "/api/contacts/contacts"


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory()


def test_create_normalises_and_get_returns_the_same(ana: User, directory: str) -> None:
    contact = ana.new_contact(
        directory,
        first_name="  Zoë ",
        last_name="Martin  Dupont",
        email="  Zoe.Martin@Example.COM ",
        phone="+33 6 12 34 56 78",
        extra={"company": "Acme", "score": 7, "vip": True, "note": None},
        tags=["lead", " lead ", "2026"],
    )
    assert contact["first_name"] == "Zoë"
    assert contact["last_name"] == "Martin Dupont"
    assert contact["email"] == "zoe.martin@example.com"
    assert (contact["phone"], contact["phone_valid"]) == ("+33612345678", True)
    assert contact["extra"] == {"company": "Acme", "score": 7, "vip": True, "note": None}
    assert contact["tags"] == ["lead", "2026"]
    assert contact["subscriptions"] == {
        "email": "subscribed",
        "sms": "subscribed",
        "whatsapp": "subscribed",
    }
    assert contact["warnings"] == []
    status, fetched, _ = ana.get(f"{CONTACTS}/{contact['id']}")
    assert status == 200
    assert fetched == {k: v for k, v in contact.items() if k != "warnings"}


def test_phone_without_country_uses_default_region(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, phone="(415) 555-2671")
    assert contact["phone"] == "+14155552671"


def test_unparseable_phone_is_kept_with_a_warning(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, first_name="Ana", phone="call reception, ext 12")
    assert (contact["phone"], contact["phone_valid"]) == ("call reception, ext 12", False)
    assert [w["field"] for w in contact["warnings"]] == ["phone"]


def test_a_phone_extension_is_never_dropped_silently(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, first_name="Ana", phone="415-555-0136 ext. 42")
    assert (contact["phone"], contact["phone_valid"]) == ("+14155550136", True)
    (warning,) = contact["warnings"]
    assert warning["field"] == "phone" and "extension (42)" in warning["message"]


def test_one_contact_per_email_409_names_the_existing(ana: User, directory: str) -> None:
    first = ana.new_contact(directory, email="dup@example.com")
    status, body, _ = ana.post(CONTACTS, {"directory": directory, "email": " DUP@example.com"})
    assert status == 409
    assert body["existing_id"] == first["id"]
    assert "email" in body["errors"]
    other = ana.new_contact(directory, email="other@example.com")
    status, body, _ = ana.patch(f"{CONTACTS}/{other['id']}", {"email": "dup@example.com"})
    assert (status, body["existing_id"]) == (409, first["id"])
    # The same email in another directory is another contact.
    ana.new_contact(ana.new_directory("Other"), email="dup@example.com")


def test_one_contact_per_phone_among_contacts_without_email(ana: User, directory: str) -> None:
    first = ana.new_contact(directory, first_name="Reception", phone="+1 415 555 0134")
    status, body, _ = ana.post(CONTACTS, {"directory": directory, "phone": "(415) 555-0134"})
    assert (status, body["existing_id"]) == (409, first["id"])
    assert "phone" in body["errors"]
    # With an email, the email tells them apart; an invalid phone identifies no one.
    ana.new_contact(directory, email="desk@example.com", phone="+14155550134")
    for _ in range(2):
        ana.new_contact(directory, first_name="Lobby", phone="call the lobby")
    # Dropping the email of a contact whose phone another email-less contact has: 409.
    desk = ana.new_contact(directory, email="desk2@example.com", phone="+14155550134")
    status, body, _ = ana.patch(f"{CONTACTS}/{desk['id']}", {"email": None})
    assert (status, body["existing_id"]) == (409, first["id"])
    # Giving the email-less contact an email frees the phone.
    assert ana.patch(f"{CONTACTS}/{first['id']}", {"email": "front@example.com"})[0] == 200
    assert ana.patch(f"{CONTACTS}/{desk['id']}", {"email": None})[0] == 200


def test_changing_email_frees_the_old_one(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, email="old@example.com")
    status, body, _ = ana.patch(f"{CONTACTS}/{contact['id']}", {"email": "new@example.com"})
    assert (status, body["email"]) == (200, "new@example.com")
    ana.new_contact(directory, email="old@example.com")
    assert ana.post(CONTACTS, {"directory": directory, "email": "new@example.com"})[0] == 409


def test_put_replaces_and_patch_merges_extra(ana: User, directory: str) -> None:
    contact = ana.new_contact(
        directory, first_name="A", email="a@example.com", extra={"x": "1", "y": "2"}
    )
    path = f"{CONTACTS}/{contact['id']}"
    status, body, _ = ana.patch(path, {"extra": {"y": None, "z": "3"}})
    assert (status, body["extra"], body["first_name"]) == (200, {"x": "1", "z": "3"}, "A")
    status, body, _ = ana.put(path, {"last_name": "B", "email": "a@example.com"})
    assert status == 200
    assert (body["first_name"], body["last_name"], body["extra"]) == ("", "B", {})


def test_contact_cannot_move_directory(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, email="a@example.com")
    other = ana.new_directory("Other")
    status, body, _ = ana.patch(f"{CONTACTS}/{contact['id']}", {"directory": other})
    assert status == 400 and "directory" in body["errors"]


def test_subscription_status_per_channel(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, email="a@example.com")
    status, body, _ = ana.patch(
        f"{CONTACTS}/{contact['id']}",
        {"subscriptions": {"email": "unsubscribed", "sms": "bounced"}},
    )
    assert status == 200
    assert body["subscriptions"] == {
        "email": "unsubscribed",
        "sms": "bounced",
        "whatsapp": "subscribed",
    }
    assert set(body["subscriptions_changed_at"]) == {"email", "sms"}
    status, body, _ = ana.patch(f"{CONTACTS}/{contact['id']}", {"subscriptions": {"fax": "x"}})
    assert status == 400 and "subscriptions" in body["errors"]
    status, body, _ = ana.patch(
        f"{CONTACTS}/{contact['id']}", {"subscriptions": {"email": "maybe"}}
    )
    assert status == 400 and "subscriptions.email" in body["errors"]


def test_delete_then_404(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, email="a@example.com")
    assert ana.delete(f"{CONTACTS}/{contact['id']}")[0] == 204
    assert ana.get(f"{CONTACTS}/{contact['id']}")[0] == 404
    assert ana.delete(f"{CONTACTS}/{contact['id']}")[0] == 404


def test_list_walks_every_contact_once_in_creation_order(ana: User, directory: str) -> None:
    made = [ana.new_contact(directory, email=f"p{n}@example.com")["id"] for n in range(11)]
    seen: list[str] = []
    url: str | None = f"{CONTACTS}?directory={directory}&page_size=4"
    while url:
        status, page, _ = ana.get(url)
        assert status == 200
        assert page["results"], "a page with a next is never empty"
        assert page["count"] == 11
        seen += [c["id"] for c in page["results"]]
        url = page["next"] and "/" + page["next"].split("://", 1)[1].split("/", 1)[1]
    assert seen == made


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"first_name": "x" * 201}, "first_name"),
        ({"first_name": 5}, "first_name"),
        ({"extra": {"nested": {"a": 1}}}, "extra.nested"),
        ({"extra": {"list": [1, 2]}}, "extra.list"),
        ({"extra": {f"k{n}": n for n in range(101)}}, "extra"),
        ({"extra": {"big": "x" * 10_001}}, "extra.big"),
        ({"extra": "text"}, "extra"),
        ({"tags": "lead"}, "tags"),
        ({"tags": ["x" * 101]}, "tags"),
        ({}, "email"),
        ({"first_name": "   "}, "email"),
    ],
)
def test_error_names_the_field(ana: User, directory: str, body: dict[str, Any], field: str) -> None:
    status, problem, headers = ana.post(CONTACTS, {"directory": directory, **body})
    assert status == 400, problem
    assert headers["content-type"] == "application/problem+json"
    assert field in problem["errors"], problem


def test_missing_directory_is_400_and_unknown_is_404(ana: User) -> None:
    status, problem, _ = ana.post(CONTACTS, {"email": "a@example.com"})
    assert status == 400 and "directory" in problem["errors"]
    assert ana.post(CONTACTS, {"directory": "0" * 26, "email": "a@example.com"})[0] == 404
    status, problem, _ = ana.get(CONTACTS)
    assert status == 400 and "directory" in problem["errors"]


def test_other_users_contact_is_404_on_every_route(ana: User, bruno: User, directory: str) -> None:
    contact = ana.new_contact(directory, email="secret@example.com")
    path = f"{CONTACTS}/{contact['id']}"
    assert bruno.get(path)[0] == 404
    assert bruno.put(path, {"email": "mine@example.com"})[0] == 404
    assert bruno.patch(path, {"email": "mine@example.com"})[0] == 404
    assert bruno.delete(path)[0] == 404
    assert bruno.get(f"{CONTACTS}?directory={directory}")[0] == 404
    assert ana.get(path)[1]["email"] == "secret@example.com"


HOSTILE_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    [],
    {},
    "",
    " ",
    "\u0000",
    "x" * 100_000,
    "🙂" * 1000,
    "مرحبا",
    "שלום\u202e",
    "Zoë",
    {"a": {"b": {"c": {}}}},
    [[[[[]]]]],
    1e308,
    {"k" * 1000: "v"},
    {"": "v"},
    "' OR 1=1 --",
    "=cmd|'/c calc'!A1",
]


def test_no_body_yields_a_500(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, email="base@example.com")
    fields = [
        "directory",
        "first_name",
        "last_name",
        "email",
        "phone",
        "extra",
        "tags",
        "subscriptions",
    ]
    for value in HOSTILE_VALUES:
        for name in fields:
            body = json.dumps({"directory": directory, "email": "x@example.com", name: value})
            for method, path in (
                ("POST", CONTACTS),
                ("PUT", f"{CONTACTS}/{contact['id']}"),
                ("PATCH", f"{CONTACTS}/{contact['id']}"),
            ):
                status, problem, _ = ana.http.request(method, path, raw=body, token=ana.token)
                assert status < 500, (method, name, value, problem)
            status, _, _ = ana.post("/api/directory/directories", {"name": value})
            assert status < 500
    deep = json.dumps({"directory": directory, "extra": json.loads("[" * 500 + "]" * 500)})
    assert ana.http.request("POST", CONTACTS, raw=deep, token=ana.token)[0] == 400


@pytest.mark.parametrize("query", ["page_size=0", "page_size=abc", "cursor=xyz", "page_size=501"])
def test_bad_page_params_are_400(ana: User, directory: str, query: str) -> None:
    status, problem, _ = ana.get(f"{CONTACTS}?directory={directory}&{query}")
    assert status == 400
    assert set(problem["errors"]) <= {"page_size", "cursor"}


def test_invisible_characters_are_removed_from_names(ana: User, directory: str) -> None:
    contact = ana.new_contact(directory, first_name="\ufeffA\x07na\u202e", last_name="Lima\x00")
    assert (contact["first_name"], contact["last_name"]) == ("Ana", "Lima")


@pytest.mark.parametrize(
    ("phone", "says"),
    [
        ("020 7946 001", "add the country code"),  # national: a country code may be missing
        ("+44 7700 900123", "not a valid international phone number for +44"),  # reserved range
        ("+999 123", "not a valid international phone number."),
    ],
)
def test_invalid_phone_warning_asks_for_a_country_code_only_when_it_has_none(
    ana: User, directory: str, phone: str, says: str
) -> None:
    contact = ana.new_contact(directory, first_name="Ana", phone=phone)
    (warning,) = contact["warnings"]
    assert says in warning["message"]
    assert ("country code, e.g." in warning["message"]) == phone.startswith("0")


def test_error_on_extra_fields_whose_names_are_the_same_once_tidied(
    ana: User, directory: str
) -> None:
    status, problem, _ = ana.post(
        CONTACTS, {"directory": directory, "extra": {"\tcity": "Lisboa", "city ": "Porto"}}
    )
    assert status == 400, problem
    assert "city" in problem["errors"]["extra"][0]
