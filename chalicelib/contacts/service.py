"""Contacts: create, read, list, replace, update, delete, one per email per directory.

A contact's key holds its email (see :mod:`chalicelib.contacts.models`), so
a conditional put is all "one contact per email" takes. Creating or deleting
a contact then moves the directory's ``contact_count`` with one atomic ADD.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.contacts import normalize
from chalicelib.contacts.models import ContactRecord, item_key_for, partition
from chalicelib.db import CONDITION_FAILED_REASON, condition_failed, connection, iso, utcnow
from chalicelib.directories.service import get_directory, move_contact_count
from chalicelib.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.http.pagination import Page, PageRequest, fetch_page, model_key
from chalicelib.ids import looks_like_id, new_id

log = logging.getLogger(__name__)

TEXT_FIELDS = ("first_name", "last_name", "email", "phone")


@dataclass
class FieldWarning:
    field: str
    message: str


@dataclass
class Changes:
    """Normalised values for the fields a request sent, and what it should hear back."""

    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[FieldWarning] = field(default_factory=list)
    # The phone's extension, which E.164 has no room for: said in a warning
    # here; an import keeps it in extra.
    phone_extension: str | None = None


def normalise(fields: dict[str, Any], phone_region: str | None = None) -> Changes:
    """Normalise every field sent; one :class:`ValidationError` lists all bad fields.

    A phone without a country code is read as ``phone_region``'s (default:
    the configured one).
    """
    changes = Changes()
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        try:
            _normalise_field(changes, name, value, phone_region)
        except normalize.FieldError as exc:
            errors.setdefault(exc.field, []).append(exc.message)
    if errors:
        raise ValidationError("Invalid value for: " + ", ".join(errors) + ".", errors=errors)
    return changes


def _normalise_field(changes: Changes, name: str, value: Any, region: str | None) -> None:
    if name in ("first_name", "last_name"):
        changes.values[name] = normalize.clean_name(value or "", name)
    elif name == "email":
        changes.values["email"] = normalize.clean_email(value or "")
    elif name == "phone":
        phone = normalize.clean_phone(value or "", region)
        changes.values["phone"] = phone.value if phone else None
        changes.values["phone_valid"] = bool(phone and phone.valid)
        if phone and phone.warning:
            changes.warnings.append(FieldWarning("phone", phone.warning))
        if phone and phone.extension:
            changes.phone_extension = phone.extension
            changes.warnings.append(
                FieldWarning(
                    "phone",
                    f"Stored without its extension ({phone.extension}), which is not part of "
                    "the number dialled; keep it in extra if you need it.",
                )
            )
    elif name == "extra":
        changes.values["extra"] = normalize.clean_extra(value)
    elif name == "tags":
        changes.values["tags"] = normalize.clean_tags(value)
    elif name == "subscriptions":
        changes.values["subscriptions"] = _clean_subscriptions(value)


def _clean_subscriptions(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise normalize.FieldError("subscriptions", "Use an object of channel to status.")
    cleaned = {}
    for channel, status in value.items():
        if channel not in normalize.CHANNELS:
            raise normalize.FieldError(
                "subscriptions", f"Channels are {', '.join(normalize.CHANNELS)}; not {channel!r}."
            )
        if status not in normalize.SUBSCRIPTION_STATUSES:
            raise normalize.FieldError(
                f"subscriptions.{channel}",
                f"Use one of {', '.join(normalize.SUBSCRIPTION_STATUSES)}.",
            )
        cleaned[channel] = status
    return cleaned


def create_contact(
    owner_id: str, directory_id: str, fields: dict[str, Any]
) -> tuple[ContactRecord, list[FieldWarning]]:
    """Add a contact to the owner's directory; 409 naming the contact that has the email."""
    get_directory(owner_id, directory_id)
    changes = normalise(fields)
    now = utcnow()
    contact_id = new_id()
    contact = ContactRecord(
        partition(owner_id, directory_id),
        "",
        contact_id=contact_id,
        directory_id=directory_id,
        created_at=now,
        updated_at=now,
    )
    _apply(contact, changes, now)
    _require_something(contact)
    contact.item_key = _item_key(contact)
    try:
        contact.save(condition=ContactRecord.item_key.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        raise _taken(contact) from None
    _count(owner_id, directory_id, +1, undo=contact)
    log.info("created contact %s", contact.public_id)
    return contact, changes.warnings


def get_contact(owner_id: str, contact_id: str) -> ContactRecord:
    """The owner's contact; 404 for a missing one, anyone else's, or one in a deleted directory."""
    directory_id, _, local_id = contact_id.partition(".")
    if not looks_like_id(directory_id) or not looks_like_id(local_id):
        raise NotFoundError("No such contact.")
    get_directory(owner_id, directory_id)
    found = ContactRecord.by_contact_id.query(
        partition(owner_id, directory_id),
        ContactRecord.contact_id == local_id,
        consistent_read=True,
        limit=1,
    )
    for contact in found:
        return contact
    raise NotFoundError("No such contact.")


def list_contacts(owner_id: str, directory_id: str, page: PageRequest) -> tuple[Page, int]:
    """A page of the directory's contacts, oldest first, and the directory's contact count."""
    directory = get_directory(owner_id, directory_id)
    key = partition(owner_id, directory_id)
    result = fetch_page(
        lambda limit, start: ContactRecord.by_contact_id.query(
            key, limit=limit, last_evaluated_key=start
        ),
        page,
        lambda item: model_key(item, ["directory_key", "item_key", "contact_id"]),
    )
    return result, int(directory.contact_count)


def update_contact(
    owner_id: str, contact_id: str, fields: dict[str, Any], *, replace: bool
) -> tuple[ContactRecord, list[FieldWarning]]:
    """Change a contact: ``replace`` (PUT) resets what is not sent; else (PATCH) only what is.

    In a PATCH, ``extra`` is merged as a JSON merge patch: a key set to null is removed.
    """
    contact = get_contact(owner_id, contact_id)
    sent_directory = fields.pop("directory", None)
    if sent_directory not in (None, contact.directory_id):
        raise ValidationError.for_field(
            "directory", "A contact cannot move to another directory; create it there instead."
        )
    if replace:
        fields = {name: fields.get(name) for name in (*TEXT_FIELDS, "extra", "tags")} | (
            {"subscriptions": fields["subscriptions"]} if "subscriptions" in fields else {}
        )
    elif isinstance(fields.get("extra"), dict):
        merged = {**contact.extra, **fields["extra"]}
        fields["extra"] = {k: v for k, v in merged.items() if v is not None}
    changes = normalise(fields)
    old_key = contact.item_key
    now = utcnow()
    _apply(contact, changes, now)
    _require_something(contact)
    contact.updated_at = now
    contact.item_key = _item_key(contact)
    same_contact = ContactRecord.contact_id == contact.contact_id
    if contact.item_key == old_key:
        try:
            contact.save(condition=same_contact)
        except PutError as exc:
            if not condition_failed(exc):
                raise
            raise NotFoundError("No such contact.") from None
        return contact, changes.warnings
    # The email (or the phone of a contact without one) changed, so the key
    # does: move the item in one transaction.
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(ContactRecord(contact.directory_key, old_key), condition=same_contact)
            tx.save(contact, condition=ContactRecord.item_key.does_not_exist())
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in exc.cancellation_reasons or []]
        if len(reasons) == 2 and reasons[1] == CONDITION_FAILED_REASON:
            raise _taken(contact) from None
        if reasons and reasons[0] == CONDITION_FAILED_REASON:
            raise NotFoundError("No such contact.") from None
        raise
    return contact, changes.warnings


def delete_contact(owner_id: str, contact_id: str) -> None:
    """Remove a contact (its email is free again)."""
    contact = get_contact(owner_id, contact_id)
    try:
        contact.delete(condition=ContactRecord.contact_id == contact.contact_id)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise
        raise NotFoundError("No such contact.") from None
    _count(owner_id, contact.directory_id, -1)
    log.info("deleted contact %s", contact.public_id)


def contact_out(
    contact: ContactRecord, warnings: list[FieldWarning] | None = None
) -> dict[str, Any]:
    """The API's view of a contact."""
    subscriptions = {
        channel: contact.subscriptions.get(channel, "subscribed") for channel in normalize.CHANNELS
    }
    body: dict[str, Any] = {
        "id": contact.public_id,
        "directory": contact.directory_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "phone_valid": bool(contact.phone_valid) if contact.phone else None,
        "extra": contact.extra,
        "tags": list(contact.tags or []),
        "subscriptions": subscriptions,
        "subscriptions_changed_at": dict(contact.subscriptions_changed_at or {}),
        "created_at": iso(contact.created_at),
        "updated_at": iso(contact.updated_at),
    }
    if warnings is not None:
        body["warnings"] = [{"field": w.field, "message": w.message} for w in warnings]
    return body


def _apply(contact: ContactRecord, changes: Changes, now: Any) -> None:
    values = dict(changes.values)
    subscriptions = values.pop("subscriptions", None)
    for name, value in values.items():
        setattr(contact, name, value)
    if subscriptions is not None:
        current = dict(contact.subscriptions or {})
        stamps = dict(contact.subscriptions_changed_at or {})
        for channel, status in subscriptions.items():
            if current.get(channel, "subscribed") != status:
                stamps[channel] = iso(now)
            current[channel] = status
        contact.subscriptions = current
        contact.subscriptions_changed_at = stamps


def _require_something(contact: ContactRecord) -> None:
    if not (contact.first_name or contact.last_name or contact.email or contact.phone):
        raise ValidationError.for_field("email", "Give at least a name, an email or a phone.")


def _count(owner_id: str, directory_id: str, delta: int, undo: ContactRecord | None = None) -> None:
    """Move the directory's contact count; a create into a just-deleted directory is undone."""
    if move_contact_count(owner_id, directory_id, delta):
        return
    if undo is not None:
        undo.delete()
    raise NotFoundError("No such directory.")


def _item_key(contact: ContactRecord) -> str:
    return item_key_for(contact.email, contact.contact_id, contact.phone, bool(contact.phone_valid))


def _taken(contact: ContactRecord) -> ConflictError:
    """409 naming the contact that already holds this email (or, without one, this phone)."""
    existing_id = None
    try:
        existing = ContactRecord.get(contact.directory_key, contact.item_key, consistent_read=True)
        existing_id = existing.public_id
    except ContactRecord.DoesNotExist:
        pass
    if contact.email:
        field_name, message = "email", "A contact with this email already exists in the directory."
    else:
        field_name = "phone"
        message = (
            "A contact without an email and with this phone already exists in the "
            "directory; add an email to tell them apart, or update that contact."
        )
    return ConflictError(
        f"{message[:-1]}: {existing_id}.",
        errors={field_name: [message]},
        existing_id=existing_id,
    )
