"""What an export writes: its columns, and each contact's row of text.

Every format shares this: the core columns, then one column per ``extra``
key found in the directory (in the order keys first appear), every value as
text. Formula neutralisation lives here too, so CSV and XLSX follow one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.contacts.models import ContactRecord

CORE_COLUMNS = ("first_name", "last_name", "email", "phone")

# A spreadsheet reads a cell starting with one of these as a formula (tab and
# CR too: Excel strips them and then sees what follows). OWASP's CSV
# injection advice: prefix such a cell with an apostrophe.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could run this text as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def neutralised(text: str) -> str:
    """The text as a spreadsheet shows it but can never run it: ``'`` before a trigger."""
    return "'" + text if looks_like_formula(text) else text


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
    """The columns of one export and what a first pass learnt about their contents."""

    extra_keys: list[str] = field(default_factory=list)
    # Longest text seen per column (characters), for spreadsheet widths.
    longest: dict[str, int] = field(default_factory=dict)
    rows: int = 0

    @property
    def columns(self) -> list[str]:
        return [*CORE_COLUMNS, *self.extra_keys]

    def row(self, contact: ContactRecord) -> list[str]:
        """The contact's cells, in column order."""
        extra = contact.extra or {}
        return [
            contact.first_name or "",
            contact.last_name or "",
            contact.email or "",
            contact.phone or "",
            *(as_text(extra.get(key)) for key in self.extra_keys),
        ]

    def learn(self, contact: ContactRecord) -> None:
        """Note the contact's extra keys and text lengths (first pass)."""
        self.rows += 1
        seen = set(self.extra_keys)
        for key in contact.extra or {}:
            if key not in seen:
                self.extra_keys.append(key)
                seen.add(key)
        for column, text in zip(self.columns, self.row(contact), strict=True):
            if len(text) > self.longest.get(column, 0):
                self.longest[column] = len(text)


def layout_of(contacts: Iterable[ContactRecord]) -> Layout:
    """One pass over the contacts: the columns the export needs."""
    layout = Layout()
    for contact in contacts:
        layout.learn(contact)
    return layout
