"""Writing a chunk of parsed rows: merge duplicates, then batch writes.

For each chunk:
1. rows with the same email merge into one (the later non-empty value
   wins), as do rows without an email that have the same valid phone;
2. those contacts' keys are read from the directory (``BatchGetItem``), so
   a row whose email (or, without one, phone) exists updates that contact —
   whether it was there before or created by an earlier chunk of this file;
3. contacts go out in ``BatchWriteItem`` requests of 25 — one item per
   contact, and since a contact's key holds its email (or phone), no write
   can create a second contact with the same one;
4. items DynamoDB returns unprocessed are retried with exponential backoff
   and jitter; those still unwritten when the attempts run out fail their
   rows with a message saying so — never a silent loss;
5. the caller moves the directory's ``contact_count`` by the new contacts
   actually written, in the same transaction that saves the job's progress.

New contacts carry their chunk's tag (``ContactRecord.import_chunk``). A
run that stopped after writing a chunk but before saving its progress is
followed by one that reads the same rows again: the contacts it finds with
this chunk's tag are ones it created itself and never counted, so they are
counted as created now, not taken for an earlier contact updated.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.exceptions import GetError, PutError

from chalicelib.contacts.models import EMAIL_PREFIX, PHONE_PREFIX, ContactRecord, partition
from chalicelib.db import utcnow
from chalicelib.ids import new_ids
from chalicelib.imports.items import DEFAULTS, FIELDS, Item, NewContactItems
from chalicelib.imports.rows import ParsedRow

log = logging.getLogger(__name__)

BATCH_ITEMS = 25  # DynamoDB's limit for BatchWriteItem
GET_BATCH_KEYS = 100  # and for BatchGetItem
MAX_ATTEMPTS = 6


def pause(seconds: float) -> None:
    """Wait before a retry (replaced in tests)."""
    time.sleep(seconds)


def _dispatch(
    connection: Any, operation: str, request_items: dict[str, Any], error: type[Exception]
) -> dict[str, Any]:
    """A batch request sent as PynamoDB sends it, its failure raised as PynamoDB raises it."""
    try:
        response: dict[str, Any] = connection.dispatch(operation, {"RequestItems": request_items})
    except BOTOCORE_EXCEPTIONS as exc:
        raise error(f"{operation} failed: {exc}", exc) from exc
    return response or {}


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter, as AWS advises for throttling."""
    return float(min(0.05 * 2**attempt, 2.0)) * random.uniform(0.5, 1.5)  # noqa: S311


class DirectoryGoneError(RuntimeError):
    """The directory was deleted while its import ran."""


@dataclass
class Outcome:
    """What a chunk did, row by row."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    warned: int = 0  # rows with a warning (counted by the caller, who adds the warnings)
    # (row, outcome, field, message) for every row that was not simply created
    notes: list[tuple[int, str, str, str]] = field(default_factory=list)

    def fail(self, row: int, field_name: str, message: str) -> None:
        self.failed += 1
        self.notes.append((row, "failed", field_name, message))

    def skip(self, row: int, field_name: str, message: str, kind: str = "skipped") -> None:
        """Count the row as skipped; the report says ``kind`` (``merged`` for a duplicate)."""
        self.skipped += 1
        self.notes.append((row, kind, field_name, message))


CREATED, UPDATED, MERGED = "created", "updated", "merged"


@dataclass
class _Write:
    """One contact to put (as its DynamoDB item), the rows it stands for, and how it counts:
    ``created``, ``updated``, or ``merged`` into a contact an earlier chunk of the same
    import created (its rows are duplicates, counted as skipped)."""

    item: Item
    group: list[ParsedRow]
    kind: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.item["directory_key"]["S"], self.item["item_key"]["S"])


@dataclass
class ChunkWriter:
    """Writes chunks of rows into one owner's directory."""

    owner_id: str
    directory_id: str

    @property
    def key(self) -> str:
        return partition(self.owner_id, self.directory_id)

    def write(self, rows: list[ParsedRow], tag: str | None = None) -> Outcome:
        """Write ``rows`` (already parsed), new contacts tagged ``tag``; what happened to each.

        The directory's ``contact_count`` is the caller's to move, by
        ``Outcome.created``.
        """
        outcome = Outcome()
        valid = []
        for row in rows:
            if row.errors:
                outcome.failed += 1
                outcome.notes += [(row.number, "failed", f, m) for f, m in row.errors]
            else:
                valid.append(row)
        writes = self._plan(self._merge_duplicates(valid, outcome), outcome, tag)
        unwritten = self._put_all(writes)
        created = 0
        for write in writes:
            if write.key in unwritten:
                field_name, held = _identified_by(write.item)
                for row in write.group:
                    outcome.fail(
                        row.number,
                        field_name,
                        f"Not written ({held}): the database stayed "
                        f"busy after {MAX_ATTEMPTS} attempts. Import the file again to add it.",
                    )
            elif write.kind == CREATED:
                created += 1
            elif write.kind == UPDATED:
                outcome.updated += 1
        outcome.created = created
        return outcome

    def _merge_duplicates(self, rows: list[ParsedRow], outcome: Outcome) -> list[list[ParsedRow]]:
        groups: dict[str, list[ParsedRow]] = {}
        singles: list[list[ParsedRow]] = []
        for row in rows:
            if row.key is None:
                singles.append([row])
                continue
            group = groups.setdefault(row.key, [])
            if group:
                outcome.skip(
                    row.number, *_duplicate_of(row.key, f"row {group[0].number}"), kind=MERGED
                )
            group.append(row)
        return list(groups.values()) + singles

    def _plan(
        self, groups: list[list[ParsedRow]], outcome: Outcome, tag: str | None
    ) -> list[_Write]:
        existing = self._existing([key for g in groups if (key := g[0].key)])
        writes = []
        now = utcnow()
        new_items = NewContactItems(self.key, self.directory_id, now, tag)
        # Ids for the chunk reserved at once; those of groups that turn out to
        # exist already are simply never used.
        ids = iter(new_ids(len(groups) - len(existing)))
        this_import = tag.split(":", 1)[0] + ":" if tag else None
        for group in groups:
            key = group[0].key
            current = existing.get(key) if key else None
            made_here = current is not None and tag is not None and current.import_chunk == tag
            if current is not None and made_here:
                # Made by this chunk in a run that stopped before counting it:
                # written again as it was (the same rows), and counted now.
                writes.append(_Write(current.serialize(), group, CREATED))
            elif current is None:
                values = dict(DEFAULTS)
                merge_rows(values, group)
                item = new_items.item(next(ids), values, key)
                writes.append(_Write(item, group, CREATED))
            elif this_import and (current.import_chunk or "").startswith(this_import):
                # Created by an earlier chunk of this file: these rows are its duplicates.
                for row in group:
                    duplicate = _duplicate_of(current.item_key, "an earlier row")
                    outcome.skip(row.number, *duplicate, kind=MERGED)
                if _merge_into(current, group, now):
                    writes.append(_Write(current.serialize(), group, MERGED))
            elif changed := _merge_into(current, group, now):
                writes.append(_Write(current.serialize(), group, UPDATED))
                outcome.notes.append(
                    (group[0].number, UPDATED, "", f"Updated the contact: {', '.join(changed)}.")
                )
            else:
                outcome.skip(group[0].number, "", "Already up to date.")
        return writes

    def _existing(self, item_keys: list[str]) -> dict[str, ContactRecord]:
        """The directory's contacts stored under these keys, by key."""
        # Keys in wire format, read through PynamoDB's connection as in
        # _put_all; what comes back is made into records by the model.
        connection = ContactRecord._get_connection().connection
        table = ContactRecord.Meta.table_name
        hash_name = ContactRecord.directory_key.attr_name
        range_name = ContactRecord.item_key.attr_name
        keys = [
            {hash_name: {"S": self.key}, range_name: {"S": k}} for k in dict.fromkeys(item_keys)
        ]
        found: dict[str, ContactRecord] = {}
        for start in range(0, len(keys), GET_BATCH_KEYS):
            pending = keys[start : start + GET_BATCH_KEYS]
            stalled = 0  # tries in a row that got nothing back
            while pending:
                request = {table: {"Keys": pending, "ConsistentRead": True}}
                response = _dispatch(connection, "BatchGetItem", request, GetError)
                for item in response.get("Responses", {}).get(table, []):
                    contact = ContactRecord.from_raw_data(item)
                    found[contact.item_key] = contact
                left = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
                stalled = stalled + 1 if len(left) == len(pending) else 0
                pending = left
                if pending:
                    if stalled >= MAX_ATTEMPTS:
                        # A row must never be created twice: stop (the message is
                        # retried) rather than take an unread contact for a new one.
                        raise GetError(f"{len(pending)} keys still unprocessed after retries")
                    pause(_backoff(stalled + 1))
        return found

    def _put_all(self, writes: list[_Write]) -> set[tuple[str, str]]:
        """Put every item; the keys of those still unwritten after all retries."""
        # The items are already in DynamoDB's wire format: sent as they are
        # through PynamoDB's connection (its client, errors and signals)
        # rather than its batch_write_item, which copies each item again.
        connection = ContactRecord._get_connection().connection
        table = ContactRecord.Meta.table_name
        unwritten: set[tuple[str, str]] = set()
        for start in range(0, len(writes), BATCH_ITEMS):
            pending = [w.item for w in writes[start : start + BATCH_ITEMS]]
            for attempt in range(1, MAX_ATTEMPTS + 1):
                request = {table: [{"PutRequest": {"Item": item}} for item in pending]}
                response = _dispatch(connection, "BatchWriteItem", request, PutError)
                left = response.get("UnprocessedItems", {}).get(table, [])
                pending = [item["PutRequest"]["Item"] for item in left]
                if not pending:
                    break
                if attempt < MAX_ATTEMPTS:
                    pause(_backoff(attempt))
            for item in pending:
                unwritten.add((item["directory_key"]["S"], item["item_key"]["S"]))
            if pending:
                log.error("%d items not written after %d attempts", len(pending), MAX_ATTEMPTS)
        return unwritten


def _duplicate_of(key: str, first: str) -> tuple[str, str]:
    """(field, message) for a row merged into the contact of ``first`` with the same key."""
    if key.startswith(EMAIL_PREFIX):
        return "email", f"Same email as {first}; merged."
    if key.startswith(PHONE_PREFIX):
        return "phone", f"No email, same phone as {first}; merged."
    return "", f"Same values as {first}; merged."


def _identified_by(item: Item) -> tuple[str, str]:
    """The field a contact's item is found by, and the value (for messages)."""
    key = item["item_key"]["S"]
    if key.startswith(EMAIL_PREFIX):
        return "email", key[len(EMAIL_PREFIX) :]
    if key.startswith(PHONE_PREFIX):
        return "phone", key[len(PHONE_PREFIX) :]
    return "", "no email or valid phone"


def merge_rows(values: dict[str, Any], group: list[ParsedRow]) -> bool:
    """Apply the rows' non-empty values to a contact's ``values``; whether anything changed.

    Later rows win; ``extra`` is merged key by key; ``phone_valid`` follows the phone.
    A value a later row replaces that an earlier row of the group gave is named in the
    later row's warnings (two spellings of a name, two numbers): never lost unsaid.
    """
    changed = False
    given_by: dict[str, int] = {}  # field -> the row of the group that gave its value
    for row in group:
        for name, value in row.values.items():
            if name == "extra":
                merged = {**(values.get("extra") or {}), **value}
                if merged != (values.get("extra") or {}):
                    values["extra"] = merged
                    changed = True
            elif name == "phone_valid":
                continue  # follows the phone below
            elif value in (None, "") or values.get(name) == value:
                continue
            elif (
                name == "phone" and values.get("phone_valid") and not row.values.get("phone_valid")
            ):
                _keep_valid_phone(row, values["phone"])
            else:
                if name in given_by:  # an earlier row's value, never empty
                    row.warnings.append(
                        (name, f"Replaced {values[name]!r} (row {given_by[name]}) with {value!r}.")
                    )
                values[name] = value
                given_by[name] = row.number
                if name == "phone":
                    values["phone_valid"] = bool(row.values.get("phone_valid"))
                changed = True
    return changed


def _keep_valid_phone(row: ParsedRow, phone: str) -> None:
    """A phone that does not parse never replaces one that does (``202-555-0111`` read in
    the wrong region after ``+1 202 555 0111``): the report says which was kept."""
    row.warnings = [w for w in row.warnings if w[0] != "phone"]
    text = row.values["phone"]
    row.warnings.append(("phone", f"Not used: {text[:50]} is not a valid number; kept {phone}."))


def _merge_into(contact: ContactRecord, group: list[ParsedRow], now: Any) -> list[str]:
    """Apply the rows to an existing contact; the fields that changed (none: not changed).

    Judged on the end result, not on each row: two duplicate rows that
    differ (a name spelled two ways) change the contact and change it back
    when the same file comes again, which is no update.
    """
    before = {name: getattr(contact, name) for name in FIELDS}
    values = dict(before)
    if not merge_rows(values, group) or values == before:
        return []
    changed = [name for name in FIELDS if values[name] != before[name] and name != "phone_valid"]
    for name in FIELDS:
        setattr(contact, name, values[name])
    contact.updated_at = now
    return changed
