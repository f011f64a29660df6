"""CSV and XLSX exports: the same columns, every value as text, formulas disarmed.

CSV is UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the
local ANSI code page) and RFC 4180 quoting with CRLF line ends. A cell a
spreadsheet would run as a formula gets a leading apostrophe (see
:mod:`chalicelib.exports.cells`).

XLSX cells are all text cells, so a phone keeps its ``+`` and leading zeros
and no value can become a formula or an error: a cell that looks like a
formula is stored as text with Excel's own "quote prefix" flag, which is
what Excel does when someone types ``'=1+1``. The header is bold and frozen,
and widths follow the longest value of each column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any

from chalicelib.contacts.models import ContactRecord
from chalicelib.exports.cells import Layout, looks_like_formula, neutralised

# Excel refuses longer cells; the CSV export keeps such values whole.
XLSX_MAX_CELL = 32_767
MIN_WIDTH, MAX_WIDTH = 8, 60


def write_csv(out: IO[bytes], layout: Layout, contacts: Iterable[ContactRecord]) -> int:
    """Write the CSV to ``out``; returns the number of contacts written."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([neutralised(column) for column in layout.columns])
    written = 0
    for contact in contacts:
        writer.writerow([neutralised(cell) for cell in layout.row(contact)])
        written += 1
    text.flush()
    text.detach()  # leave ``out`` open for the caller
    return written


def write_xlsx(out: IO[bytes], layout: Layout, contacts: Iterable[ContactRecord]) -> int:
    """Write the workbook to ``out``; returns the number of contacts written."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet: Any = workbook.create_sheet("Contacts")
    for index, column in enumerate(layout.columns, start=1):
        longest = max(len(column), layout.longest.get(column, 0))
        width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_header_cell(sheet, column) for column in layout.columns])
    written = 0
    for contact in contacts:
        sheet.append([_text_cell(sheet, text) for text in layout.row(contact)])
        written += 1
    workbook.save(out)
    return written


def _header_cell(sheet: Any, text: str) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    value = _text_cell(sheet, text)
    cell = value if not isinstance(value, str) else WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def _text_cell(sheet: Any, text: str) -> Any:
    """A plain string when openpyxl would store it as text anyway, else a forced text cell."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

    if ILLEGAL_CHARACTERS_RE.search(text):
        # Control characters are not allowed in the file format at all.
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > XLSX_MAX_CELL:
        text = text[: XLSX_MAX_CELL - 1] + "…"
    if not (looks_like_formula(text) or text in ERROR_CODES):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl guessed a formula ("=…") or an error ("#N/A")
    cell.quotePrefix = True
    return cell
