"""One file row to contact fields, normalised by the contacts module."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.contacts.models import ROW_PREFIX, match_key
from chalicelib.contacts.normalize import MAX_EXTRA_KEYS, MAX_EXTRA_VALUE_LENGTH
from chalicelib.contacts.service import Changes, normalise
from chalicelib.errors import ValidationError
from chalicelib.formulas import unguarded
from chalicelib.imports.headers import ColumnMap, column_label
from chalicelib.imports.lenient import (
    OTHER_EMAILS_FIELD,
    OTHER_PHONES_FIELD,
    SALUTATION_FIELD,
    fit_lengths,
    split_addresses,
    split_full_name,
)

EXTENSION_FIELD = "phone extension"
INVALID_EMAIL_FIELD = "invalid email"


@dataclass
class ParsedRow:
    """A data row: its number in the file (header is row 1), values, or why it failed."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    # What finds the row's contact: its email's key, else its valid phone's
    # (see contacts.models.match_key), else the row's own (see _row_key);
    # rows with the same key merge.
    key: str | None = None
    # What the contact's own fields have no room for, kept in ``extra``.
    other_emails: str = ""
    other_phones: str = ""
    salutation: str = ""


def is_blank(cells: list[str]) -> bool:
    """Empty and separator-only rows (``,,,``, `` ; ; ``) carry nothing."""
    return not "".join(cells).strip()  # one string scan, not a generator per cell


def parse_row(
    number: int, cells: list[str], columns: ColumnMap, phone_region: str | None = None
) -> ParsedRow:
    """The row's fields, normalised; a bad field fails the row, naming the field.

    Phones without a country code are read as ``phone_region``'s (the
    import's option; default: the configured region).
    """
    row = ParsedRow(number=number)
    filled_in: list[int] = []
    raw = _core_values(cells, columns, row, filled_in)
    extra = _extra_values(cells, columns, row)
    for index in filled_in:  # a later column's value now the contact's own: not kept twice
        extra.pop(columns.extra[index], None)
    if cells.__class__ is not list:  # a workbook row with cells that hold no value
        notes: dict[int, str] = getattr(cells, "notes", {})
        row.warnings += [(columns.field_at(i), n + " Imported as empty.") for i, n in notes.items()]
    row.warnings += fit_lengths(raw, extra)
    raw["extra"] = extra
    changes = _normalised(raw, row, phone_region)
    if changes is None:
        return row
    row.values = values = changes.values
    if changes.phone_extension:
        changes.warnings = [w for w in changes.warnings if w.field != "phone"]
        row.warnings.append(
            ("phone", _keep_in_extra(values, EXTENSION_FIELD, changes.phone_extension))
        )
    row.key = match_key(values.get("email"), values.get("phone"), values.get("phone_valid", False))
    if row.key is None:
        row.key = _row_key(values)
        row.warnings.append(
            (
                "email",
                "No email or valid phone: no message can reach this contact, and only an "
                "identical row finds it again.",
            )
        )
    row.warnings += [(w.field, w.message) for w in changes.warnings]
    if not any(row.values.get(k) for k in ("first_name", "last_name", "email", "phone")):
        row.errors = [("email", "The row has no name, email or phone.")]
    return row


def _core_values(
    cells: list[str], columns: ColumnMap, row: ParsedRow, filled_in: list[int]
) -> dict[str, Any]:
    """Email, phone and names from their columns (a later column where the first is
    empty: its index is added to ``filled_in``)."""
    raw: dict[str, Any] = {}
    for name, index in columns.core.items():
        value = _cell(cells, index)
        if not value:
            for other in columns.fallbacks.get(name, ()):
                if value := _cell(cells, other):
                    filled_in.append(other)
                    break
        raw[name] = value
    if email := raw.get("email"):
        raw["email"], others = split_addresses(email)
        if others:
            row.other_emails = ", ".join(others)
    if (phone := raw.get("phone")) and ":::" in phone:
        # Google Contacts lists a contact's numbers in one cell: the first is the phone.
        numbers = [number.strip() for number in phone.split(":::") if number.strip()]
        raw["phone"] = numbers[0] if numbers else ""
        row.other_phones = ", ".join(numbers[1:])
    full_name = raw.pop("full_name", "")
    if full_name and not raw.get("first_name") and not raw.get("last_name"):
        raw["first_name"], raw["last_name"], row.salutation = split_full_name(full_name)
    return raw


def _extra_values(cells: list[str], columns: ColumnMap, row: ParsedRow) -> dict[str, Any]:
    """Every other column under its label; at most MAX_EXTRA_KEYS of them, saying so."""
    if len(cells) <= columns.width:
        # The usual row. Labels are unique (see map_columns): empty cells are left out.
        extra = {}
        for index, label in columns.extra.items():
            if value := _cell(cells, index):
                extra[label] = value
    else:
        # Cells beyond the header's last column are kept too, by position.
        extra = {label: _cell(cells, index) for index, label in columns.extra.items()}
        for index in range(columns.width, len(cells)):
            extra[column_label(index)] = _cell(cells, index)
        extra = {k: v for k, v in extra.items() if v != ""}
    for label, value in (
        (OTHER_EMAILS_FIELD, row.other_emails),
        (OTHER_PHONES_FIELD, row.other_phones),
        (SALUTATION_FIELD, row.salutation),
    ):
        if value:
            row.warnings.append((label, _keep_in_extra({"extra": extra}, label, value)))
    if len(extra) > MAX_EXTRA_KEYS:
        # Keep the contact (its email, phone, names); say what was left out.
        dropped = list(extra)[MAX_EXTRA_KEYS:]
        extra = {k: extra[k] for k in list(extra)[:MAX_EXTRA_KEYS]}
        row.warnings.append(
            (
                "extra",
                f"Only {MAX_EXTRA_KEYS} extra fields are kept; left out: "
                + ", ".join(dropped)[:500],
            )
        )
    return extra


def _normalised(raw: dict[str, Any], row: ParsedRow, region: str | None) -> Changes | None:
    """The contacts module's values for the row; ``None`` when it fails (the errors set)."""
    try:
        return normalise(raw, region)
    except ValidationError as exc:
        changes = _without_bad_email(raw, exc, row, region)
        if changes is None:
            row.errors = [(f, m) for f, messages in exc.errors.items() for m in messages]
        return changes


def _without_bad_email(
    raw: dict[str, Any], error: ValidationError, row: ParsedRow, region: str | None
) -> Changes | None:
    """The row's values without an invalid email, when a valid phone finds the contact.

    The address is kept in ``extra`` and the report says why it was not
    used; without a valid phone, nothing would tell the contact apart: the
    row fails, naming the email.
    """
    if set(error.errors) != {"email"} or not raw.get("phone"):
        return None
    try:
        changes = normalise({**raw, "email": ""}, region)
    except ValidationError:
        return None
    if not changes.values.get("phone_valid"):
        return None
    reason = " ".join(error.errors["email"])
    kept = _keep_in_extra(changes.values, INVALID_EMAIL_FIELD, raw["email"])
    row.warnings.append(("email", f"Not used: {reason} {kept} The contact is found by its phone."))
    return changes


def _keep_in_extra(values: dict[str, Any], label: str, value: str) -> str:
    """Keep a value the contact's fields have no room for in ``extra``; the report's note."""
    extra = values.setdefault("extra", {})
    if label not in extra and len(extra) < MAX_EXTRA_KEYS:
        extra[label] = value[:MAX_EXTRA_VALUE_LENGTH]
        return f"Kept in extra as {label!r}: {value[:200]}."
    return f"Left out, as extra has no room for {label!r}: {value[:200]}."


def _row_key(values: dict[str, Any]) -> str:
    """The key of a contact with no email and no valid phone: a digest of all its values.

    Nothing identifies such a row (a LinkedIn connection, a number without
    its country code), so only the very same row finds it again: a file
    imported twice creates nothing, an identical line twice in a file is one
    contact, and two people who merely share a name stay two.
    """
    canonical = json.dumps(
        [values.get(name) for name in ("first_name", "last_name", "phone", "extra")],
        sort_keys=True,
        ensure_ascii=False,
    )
    return ROW_PREFIX + hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).hexdigest()


def _cell(cells: list[str], index: int) -> str:
    if index >= len(cells):
        return ""
    cell = unguarded(cells[index])
    if "\r" in cell or "\ufeff" in cell:
        # Quoted line breaks come as \r\n from Windows files; store one kind.
        cell = cell.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    return cell.strip()
