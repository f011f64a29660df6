"""What an export writes: its columns, and each contact's row of text.

Every format shares this: the core columns, then one column per ``extra``
key found in the directory (in the order keys first appear), every value as
text. The formula rule is :mod:`chalicelib.formulas`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.contacts.models import ContactRecord

CORE_COLUMNS = ("first_name", "last_name", "email", "phone")


def as_text(value: Any) -> str:
    """One cell's text: nested values as compact JSON, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass
class Layout:
    """The columns of one export, learnt while its rows are written.

    A key first seen at row 5,000 becomes a column from there on; rows
    before it are padded when the file is assembled (see
    :mod:`chalicelib.exports.spreadsheets`). One read of the directory is
    enough that way.
    """

    extra_keys: list[str] = field(default_factory=list)
    # Longest text seen per column index (characters), for spreadsheet widths.
    longest: list[int] = field(default_factory=lambda: [0] * len(CORE_COLUMNS))
    _known: set[str] = field(default_factory=set)

    @property
    def columns(self) -> list[str]:
        return [*CORE_COLUMNS, *self.extra_keys]

    def cells(self, contact: ContactRecord) -> list[str]:
        """The contact's cells in column order, adding any extra key not seen before."""
        extra = contact.extra or {}
        for key in extra:
            if key not in self._known:
                self._known.add(key)
                self.extra_keys.append(key)
                self.longest.append(0)
        return [
            contact.first_name or "",
            contact.last_name or "",
            contact.email or "",
            contact.phone or "",
            *(as_text(extra.get(key)) for key in self.extra_keys),
        ]

    def measure(self, cells: list[str]) -> None:
        """Note how wide each cell is (for spreadsheet column widths)."""
        longest = self.longest
        for index, text in enumerate(cells):
            if len(text) > longest[index]:
                longest[index] = len(text)
