"""One file row to contact fields, normalised by the contacts module."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.contacts.models import ROW_PREFIX, match_key
from chalicelib.contacts.normalize import MAX_EXTRA_KEYS
from chalicelib.contacts.service import normalise
from chalicelib.errors import ValidationError
from chalicelib.formulas import unguarded
from chalicelib.imports.headers import ColumnMap, column_label

EXTENSION_FIELD = "phone extension"


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


def is_blank(cells: list[str]) -> bool:
    """Empty and separator-only rows (``,,,``, `` ; ; ``) carry nothing."""
    return not "".join(cells).strip()  # one string scan, not a generator per cell


def parse_row(number: int, cells: list[str], columns: ColumnMap) -> ParsedRow:
    """The row's fields, normalised; a bad field fails the row, naming the field."""
    raw: dict[str, Any] = {}
    for name, index in columns.core.items():
        value = _cell(cells, index)
        if not value:
            for other in columns.fallbacks.get(name, ()):
                value = value or _cell(cells, other)
        raw[name] = value
    full_name = raw.pop("full_name", "")
    if full_name and not raw.get("first_name") and not raw.get("last_name"):
        first, _, last = full_name.partition(" ")
        raw["first_name"], raw["last_name"] = first, last
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
    row = ParsedRow(number=number)
    if cells.__class__ is not list:  # a workbook row with cells that hold no value
        notes: dict[int, str] = getattr(cells, "notes", {})
        row.warnings += [(columns.field_at(i), n + " Imported as empty.") for i, n in notes.items()]
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
    raw["extra"] = extra
    try:
        changes = normalise(raw)
    except ValidationError as exc:
        row.errors = [(f, m) for f, messages in exc.errors.items() for m in messages]
        return row
    row.values = changes.values
    values = changes.values
    if changes.phone_extension:
        changes.warnings = [w for w in changes.warnings if w.field != "phone"]
        row.warnings.append(("phone", _keep_extension(values, changes.phone_extension)))
    row.key = match_key(
        values.get("email"), values.get("phone"), values.get("phone_valid", False)
    ) or _row_key(values)
    row.warnings += [(w.field, w.message) for w in changes.warnings]
    if not any(row.values.get(k) for k in ("first_name", "last_name", "email", "phone")):
        row.errors = [("email", "The row has no name, email or phone.")]
    return row


def _keep_extension(values: dict[str, Any], extension: str) -> str:
    """Keep a phone's extension in ``extra``; the report's note on it."""
    extra = values.setdefault("extra", {})
    if EXTENSION_FIELD not in extra and len(extra) < MAX_EXTRA_KEYS:
        extra[EXTENSION_FIELD] = extension
        return f"The extension {extension} is kept in extra as {EXTENSION_FIELD!r}."
    return f"The extension {extension} was left out: extra has no room for it."


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
