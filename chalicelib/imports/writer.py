"""Writing a chunk of parsed rows: merge duplicates, then transactional writes.

For each chunk:
1. rows with the same email merge into one (the later non-empty value wins);
2. the chunk's emails are looked up in the directory (their guard items, then
   the contacts), so a row whose email exists updates that contact — whether
   it was there before or created by an earlier chunk of this file;
3. new contacts, their email guards, changed contacts and the directory's
   count go out in DynamoDB transactions of up to 100 items: about 20 write
   requests per 1,000 new contacts, each contact and its guard all-or-none.

A transaction cancelled because an email was taken meanwhile is retried
with those rows as updates; throttling and conflicts are retried with
exponential backoff; rows still not written when retries run out fail with
a message saying so — never a silent loss.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.contacts.models import (
    CONTACT_PREFIX,
    EMAIL_GUARD_PREFIX,
    ContactRecord,
    EmailGuardRecord,
    partition,
)
from chalicelib.db import connection, utcnow
from chalicelib.directories.models import DirectoryRecord
from chalicelib.ids import new_id
from chalicelib.imports.rows import ParsedRow

log = logging.getLogger(__name__)

MAX_TRANSACTION_ITEMS = 100
MAX_ATTEMPTS = 6
_RETRYABLE = {"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"}
_RETRYABLE_CAUSES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "InternalServerError",
    "RequestLimitExceeded",
}


class DirectoryGoneError(RuntimeError):
    """The directory was deleted while its import ran."""


@dataclass
class Outcome:
    """What a chunk did, row by row."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    # (row, outcome, field, message) for every row that was not simply created
    notes: list[tuple[int, str, str, str]] = field(default_factory=list)

    def fail(self, row: int, field_name: str, message: str) -> None:
        self.failed += 1
        self.notes.append((row, "failed", field_name, message))

    def skip(self, row: int, field_name: str, message: str) -> None:
        self.skipped += 1
        self.notes.append((row, "skipped", field_name, message))


@dataclass
class _Write:
    """One contact to put, the rows it stands for, and whether it is new."""

    contact: ContactRecord
    group: list[ParsedRow]
    new: bool

    @property
    def rows(self) -> list[int]:
        return [row.number for row in self.group]


@dataclass
class ChunkWriter:
    """Writes chunks of rows into one owner's directory."""

    owner_id: str
    directory_id: str
    sleep: Callable[[float], None] = time.sleep

    def write(self, rows: list[ParsedRow]) -> Outcome:
        """Write ``rows`` (already parsed); returns what happened to each."""
        outcome = Outcome()
        valid = []
        for row in rows:
            if row.errors:
                for field_name, message in row.errors:
                    outcome.notes.append((row.number, "failed", field_name, message))
                outcome.failed += 1
            else:
                valid.append(row)
        merged = self._merge_duplicates(valid, outcome)
        self._write_merged(merged, outcome, attempt=1)
        return outcome

    def _merge_duplicates(self, rows: list[ParsedRow], outcome: Outcome) -> list[list[ParsedRow]]:
        groups: dict[str, list[ParsedRow]] = {}
        singles: list[list[ParsedRow]] = []
        for row in rows:
            if row.email is None:
                singles.append([row])
                continue
            group = groups.setdefault(row.email, [])
            if group:
                outcome.skip(row.number, "email", f"Same email as row {group[0].number}; merged.")
            group.append(row)
        return list(groups.values()) + singles

    def _write_merged(self, groups: list[list[ParsedRow]], outcome: Outcome, attempt: int) -> None:
        existing = self._existing_contacts([g[0].email for g in groups if g[0].email])
        writes: list[_Write] = []
        now = utcnow()
        for group in groups:
            email = group[0].email
            current = existing.get(email) if email else None
            if current is None:
                writes.append(_Write(self._new_contact(group, now), group, new=True))
            elif _merge_into(current, group, now):
                writes.append(_Write(current, group, new=False))
            else:
                outcome.skip(group[0].number, "", "Already up to date.")
        for batch in _batches(writes):
            self._commit(batch, outcome, attempt)

    def _existing_contacts(self, emails: list[str | None]) -> dict[str, ContactRecord]:
        key = partition(self.owner_id, self.directory_id)
        wanted = [(key, EMAIL_GUARD_PREFIX + e) for e in emails if e]
        if not wanted:
            return {}
        guards = {
            g.item_key.removeprefix(EMAIL_GUARD_PREFIX): g.contact_key
            for g in EmailGuardRecord.batch_get(wanted, consistent_read=True)
        }
        if not guards:
            return {}
        contacts = {
            c.item_key: c
            for c in ContactRecord.batch_get(
                [(key, k) for k in set(guards.values())], consistent_read=True
            )
        }
        return {email: contacts[k] for email, k in guards.items() if k in contacts}

    def _new_contact(self, group: list[ParsedRow], now: Any) -> ContactRecord:
        contact = ContactRecord(
            partition(self.owner_id, self.directory_id),
            CONTACT_PREFIX + new_id(),
            directory_id=self.directory_id,
            created_at=now,
            updated_at=now,
        )
        _merge_into(contact, group, now)
        return contact

    def _commit(self, batch: list[_Write], outcome: Outcome, attempt: int) -> None:
        try:
            self._transact(batch)
        except TransactWriteError as exc:
            self._recover(batch, exc, outcome, attempt)
            return
        for write in batch:
            if write.new:
                outcome.created += 1
            else:
                outcome.updated += 1

    def _transact(self, batch: list[_Write]) -> None:
        created = sum(1 for w in batch if w.new)
        with TransactWrite(connection=connection()) as tx:
            if created:
                tx.update(
                    DirectoryRecord(self.owner_id, self.directory_id),
                    actions=[DirectoryRecord.contact_count.add(created)],
                    condition=DirectoryRecord.directory_id.exists(),
                )
            for write in batch:
                if write.new:
                    tx.save(write.contact, condition=ContactRecord.item_key.does_not_exist())
                    if write.contact.email:
                        guard = EmailGuardRecord(
                            write.contact.directory_key,
                            EMAIL_GUARD_PREFIX + write.contact.email,
                            contact_key=write.contact.item_key,
                        )
                        tx.save(guard, condition=EmailGuardRecord.item_key.does_not_exist())
                else:
                    tx.save(write.contact, condition=ContactRecord.item_key.exists())

    def _recover(
        self, batch: list[_Write], exc: TransactWriteError, outcome: Outcome, attempt: int
    ) -> None:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        created = sum(1 for w in batch if w.new)
        if created and reasons and reasons[0] == "ConditionalCheckFailed":
            raise DirectoryGoneError("the directory was deleted during the import") from exc
        retryable = bool(set(reasons) & _RETRYABLE) or exc.cause_response_code in _RETRYABLE_CAUSES
        if "ConditionalCheckFailed" in reasons or retryable:
            if attempt >= MAX_ATTEMPTS:
                for write in batch:
                    for number in write.rows:
                        outcome.fail(
                            number,
                            "",
                            f"Not written: the database was busy after {attempt} attempts. "
                            "Import the file again to add this row.",
                        )
                log.error("chunk not written after %d attempts", attempt)
                return
            # Exponential backoff with jitter, as AWS advises for throttling.
            self.sleep(min(0.05 * 2**attempt, 2.0) * random.uniform(0.5, 1.5))  # noqa: S311
            # Re-read and re-plan: an email taken meanwhile becomes an update.
            self._write_merged([w.group for w in batch], outcome, attempt + 1)
            return
        raise exc


def _batches(writes: list[_Write]) -> list[list[_Write]]:
    """Groups of writes that fit one transaction (count update + contact + guard each)."""
    batches: list[list[_Write]] = []
    current: list[_Write] = []
    size = 1
    for write in writes:
        items = 2 if write.new and write.contact.email else 1
        if size + items > MAX_TRANSACTION_ITEMS:
            batches.append(current)
            current, size = [], 1
        current.append(write)
        size += items
    if current:
        batches.append(current)
    return batches


def _merge_into(contact: ContactRecord, group: list[ParsedRow], now: Any) -> bool:
    """Apply the rows' non-empty values to ``contact``; whether anything changed."""
    changed = False
    for row in group:
        for name, value in row.values.items():
            if name == "extra":
                merged = {**(contact.extra or {}), **value}
                if merged != (contact.extra or {}):
                    contact.extra = merged
                    changed = True
            elif value not in (None, "") and getattr(contact, name) != value:
                if name == "phone_valid" and not row.values.get("phone"):
                    continue
                setattr(contact, name, value)
                changed = True
    if changed:
        contact.updated_at = now
    return changed
