"""New contacts as DynamoDB items, built without a PynamoDB model instance per row.

An import writes up to a million contacts. A ``ContactRecord`` per row (its
attribute descriptors, defaults and per-attribute serialisation) cost more
than validating the row's email and phone together. ``ContactRecord`` stays
the schema: what every new contact of a chunk shares (partition, directory,
timestamps, empty tags and subscriptions) is serialised once by the model
itself, and each row's own fields by the model's attribute objects. The
tests hold the result equal to ``ContactRecord(...).serialize()``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.contacts.models import NO_EMAIL_PREFIX, ContactRecord, match_key

# The fields an import sets; the rest of a new contact is the model's defaults.
FIELDS = ("first_name", "last_name", "email", "phone", "phone_valid", "extra")
DEFAULTS: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "email": None,
    "phone": None,
    "phone_valid": False,
    "extra": {},
}

Item = dict[str, dict[str, Any]]


class NewContactItems:
    """Wire items for new contacts of one directory, all made at ``now`` (by ``import_chunk``)."""

    def __init__(
        self, directory_key: str, directory_id: str, now: datetime, import_chunk: str | None = None
    ) -> None:
        template = ContactRecord(
            directory_key,
            "",
            contact_id="",
            directory_id=directory_id,
            created_at=now,
            updated_at=now,
            import_chunk=import_chunk,
        )
        self._base = template.serialize()
        attributes = ContactRecord.get_attributes()
        self._key = attributes["item_key"].attr_name
        self._id = attributes["contact_id"].attr_name
        self._fields: list[tuple[str, str, str, Callable[[Any], Any]]] = [
            (name, attr.attr_name, attr.attr_type, attr.serialize)
            for name, attr in ((name, attributes[name]) for name in FIELDS)
        ]

    def item(self, contact_id: str, values: dict[str, Any], row_key: str | None = None) -> Item:
        """The item ``ContactRecord`` would write for a new contact with these field values.

        ``row_key`` is the key of a contact with no email and no valid phone
        (see ``imports.rows``), in place of one made from its id.
        """
        # A shallow copy: the shared parts are never changed once serialised.
        item = dict(self._base)
        for name, wire_name, wire_type, serialize in self._fields:
            value = values[name]
            if value is None:
                item.pop(wire_name, None)  # PynamoDB leaves a null attribute out
            else:
                item[wire_name] = {wire_type: serialize(value)}
        item[self._id] = {"S": contact_id}
        key = match_key(values["email"], values["phone"], values["phone_valid"])
        item[self._key] = {"S": key or row_key or NO_EMAIL_PREFIX + contact_id}
        return item
