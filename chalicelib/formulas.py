"""Spreadsheet formula injection: one rule for what exports write and imports read.

A spreadsheet runs a cell that starts with one of FORMULA_TRIGGERS as a
formula (tab and CR too: Excel strips them, then sees what follows). OWASP's
CSV-injection advice, which exports follow: put an apostrophe before such a
cell; spreadsheets show it and never run the cell. Imports take that
apostrophe away again, so an export imports back to the same values.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
GUARDED = tuple("'" + trigger for trigger in FORMULA_TRIGGERS)


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could run this text as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def neutralised(text: str) -> str:
    """The text as a spreadsheet shows it but can never run it: ``'`` before a trigger."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unguarded(text: str) -> str:
    """The text without the apostrophe :func:`neutralised` put before a trigger."""
    return text[1:] if text.startswith(GUARDED) else text
