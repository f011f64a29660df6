"""CSV and XLSX exports: the same columns, every value as text, formulas disarmed.

CSV is UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the
local ANSI code page) and RFC 4180 quoting with CRLF line ends. A cell a
spreadsheet would run as a formula gets a leading apostrophe (see
:mod:`chalicelib.formulas`).

XLSX cells are all text cells, so a phone keeps its ``+`` and leading zeros
and no value can become a formula or an error: a cell that looks like a
formula is stored as text with Excel's own "quote prefix" flag, which is
what Excel does when someone types ``'=1+1``. The header is bold and frozen,
and widths follow the longest value of each column.

Both read the directory once: rows go to a temporary CSV on disk while the
columns are learnt, then the file is assembled with the header first and
short rows (written before a later contact brought a new ``extra`` key)
padded. Memory stays flat whatever the directory's size.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from chalicelib.contacts.models import ContactRecord
from chalicelib.errors import ExportNotPossibleError
from chalicelib.exports.cells import Layout
from chalicelib.formulas import looks_like_formula, neutralised

# Excel refuses longer cells; the CSV export keeps such values whole.
XLSX_MAX_CELL = 32_767
XLSX_MAX_COLUMNS = 16_384  # Excel's last column, XFD
# What XML 1.0 cannot hold at all (a workbook with one does not open):
# control characters but tab, LF and CR, and the non-characters U+FFFE/U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MIN_WIDTH, MAX_WIDTH = 8, 60
XML_ESCAPE_LOOKALIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
# An extra value may be up to the contact's 64 KB; csv's default limit is 128 K.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def write_csv(out: IO[bytes], contacts: Iterable[ContactRecord]) -> int:
    """Write the CSV to ``out``; returns the number of contacts written."""
    layout = Layout()
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        written = _spool(contacts, layout, spool, for_csv=True)
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([neutralised(column) for column in layout.columns])
        writer.writerows(_padded(spool, len(layout.columns)))
        text.flush()
        text.detach()  # leave ``out`` open for the caller
    return written


def write_xlsx(out: IO[bytes], contacts: Iterable[ContactRecord]) -> int:
    """Write the workbook to ``out``; returns the number of contacts written."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    layout = Layout()
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        written = _spool(contacts, layout, spool, for_csv=False)
        if len(layout.columns) > XLSX_MAX_COLUMNS:
            raise ExportNotPossibleError(
                f"This directory has {len(layout.columns):,} columns ({len(layout.extra_keys):,} "
                f"extra fields); a workbook holds at most {XLSX_MAX_COLUMNS:,}. "
                "Export it as CSV instead.",
                errors={"format": ["Too many columns for xlsx: use csv."]},
            )
        workbook = Workbook(write_only=True)
        sheet: Any = workbook.create_sheet("Contacts")
        for index, column in enumerate(layout.columns):
            width = min(MAX_WIDTH, max(MIN_WIDTH, len(column), layout.longest[index]) + 2)
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        sheet.freeze_panes = "A2"
        sheet.append([_header_cell(sheet, column) for column in layout.columns])
        for row in _padded(spool, len(layout.columns)):
            sheet.append([_text_cell(sheet, text) for text in row])
        workbook.save(out)
    return written


def _spool(
    contacts: Iterable[ContactRecord], layout: Layout, spool: IO[str], *, for_csv: bool
) -> int:
    writer = csv.writer(spool, lineterminator="\r\n")  # so a lone \r in a value is quoted
    written = 0
    for contact in contacts:
        cells = layout.cells(contact)
        if for_csv:
            cells = [neutralised(cell) for cell in cells]
        else:
            layout.measure(cells)
        writer.writerow(cells)
        written += 1
    spool.seek(0)
    return written


def _padded(spool: IO[str], width: int) -> Iterator[list[str]]:
    for row in csv.reader(spool):
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        yield row


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
    from openpyxl.cell.cell import ERROR_CODES

    if XML_ILLEGAL.search(text):
        text = XML_ILLEGAL.sub("", text)
    if "_x" in text:
        # Excel reads "_x0041_" in a cell's XML as the escape for "A"; its own
        # escape for a literal underscore keeps the text as typed.
        text = XML_ESCAPE_LOOKALIKE.sub("_x005F_", text)
    if len(text) > XLSX_MAX_CELL:
        text = text[: XLSX_MAX_CELL - 1] + "…"
    if not (looks_like_formula(text) or text in ERROR_CODES):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl guessed a formula ("=…") or an error ("#N/A")
    cell.quotePrefix = True
    return cell
