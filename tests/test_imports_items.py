"""The importer's fast path writes exactly the item the ContactRecord model would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

NOW = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
CONTACT_ID = "01JCONTACT0000000000000000"

ROWS: list[dict[str, Any]] = [
    {"email": "ana@example.com", "first_name": "Ana", "last_name": "Lima"},
    {"email": None, "phone": "+442079460000", "phone_valid": True},
    {"email": None, "first_name": "Zoë", "phone": "call me maybe", "phone_valid": False},
    {
        "email": "joão@exemplo.com.br",
        "first_name": "João",
        "last_name": "",
        "extra": {"Città": "Zürich", "note": 'line one\nline "two"', "n": 3, "ok": True},
    },
    {"email": "x@example.test", "extra": {"empty": None, "pi": 3.25}},
]


@pytest.mark.parametrize("fields", ROWS)
def test_can_build_new_contact_items_exactly_as_the_model_writes_them(
    fields: dict[str, Any],
) -> None:
    from chalicelib.contacts.models import ContactRecord, item_key_for
    from chalicelib.imports.items import DEFAULTS, NewContactItems

    values = {**DEFAULTS, **fields}
    model = ContactRecord(
        "owner#directory",
        item_key_for(values["email"], CONTACT_ID, values["phone"], values["phone_valid"]),
        contact_id=CONTACT_ID,
        directory_id="directory",
        created_at=NOW,
        updated_at=NOW,
        **values,
    )
    built = NewContactItems("owner#directory", "directory", NOW).item(CONTACT_ID, values)
    assert built == model.serialize()
    # Found again by its email, else its valid phone, else only by its id.
    expected_key = (
        f"e#{values['email']}"
        if values["email"]
        else f"p#{values['phone']}"
        if values["phone_valid"]
        else f"n#{CONTACT_ID}"
    )
    assert built["item_key"] == {"S": expected_key}


def test_can_build_many_items_from_one_builder_without_them_sharing_fields() -> None:
    from chalicelib.imports.items import DEFAULTS, NewContactItems

    items = NewContactItems("owner#directory", "directory", NOW)
    first = items.item("01JFIRST000000000000000000", {**DEFAULTS, "email": "a@example.com"})
    second = items.item("01JSECOND00000000000000000", {**DEFAULTS, "phone": "+15550100"})
    assert first["item_key"] == {"S": "e#a@example.com"}
    assert second["item_key"] == {"S": "n#01JSECOND00000000000000000"}
    assert "phone" not in first and "email" not in second
    # A row with neither email nor valid phone is stored under the row's own key.
    third = items.item("01JTHIRD000000000000000000", {**DEFAULTS, "first_name": "Lee"}, "r#ab12")
    assert third["item_key"] == {"S": "r#ab12"}
