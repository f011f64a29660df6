"""XLSX workbooks, read in openpyxl's streaming (read-only) mode.

- the sheet: the one named by the ``sheet`` option, else the first visible
  sheet whose first rows hold a contact-like header (an email or phone
  column), so an "Instructions" tab or a hidden archive is passed over;
- the header: the first of those rows that looks like one, so title rows
  above it are skipped;
- merged cells: read-only mode does not expose them, so their ranges are
  read from the sheet's XML and the top-left value fills the range;
- values: shown as Excel shows them — whole numbers without ``.0`` or an
  exponent, number formats like ``00000`` applied, dates as ISO text,
  formulas as their saved values. Only a format of zeros changes how a
  number reads, so a workbook that defines none is read as bare values:
  openpyxl then builds no cell object per cell.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, BinaryIO

from chalicelib.imports.textfiles import UnreadableFileError

HEADER_SEARCH_ROWS = 20
# A workbook whose XML inflates past this is refused (a zip bomb, or a sheet
# no contact list needs).
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_ZEROS = re.compile(r"^0+$")


def check_archive(stream: BinaryIO) -> None:
    """Refuse what is not an XLSX, or would inflate absurdly (zip bomb)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            total = sum(info.file_size for info in archive.infolist())
            packed = sum(info.compress_size for info in archive.infolist()) or 1
    except zipfile.BadZipFile as exc:
        raise UnreadableFileError("This file is damaged or not an XLSX workbook.") from exc
    finally:
        stream.seek(0)
    if "xl/workbook.xml" not in names:
        raise UnreadableFileError(
            "This zip file is not an Excel workbook (.xlsx). Save it from Excel as .xlsx or CSV."
        )
    if total > MAX_UNCOMPRESSED_BYTES or total / packed > MAX_COMPRESSION_RATIO:
        raise UnreadableFileError(
            "This workbook inflates to an implausible size (a zip bomb?) and was not opened."
        )


_SHEET_DATA = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheetData"
_RELEASE_EVERY_ROWS = 1000


def _release_rows_as_read() -> None:
    """Have openpyxl's read-only sheet reader let go of the rows it has read (once).

    The reader clears each row element once read, but the cleared elements
    stay children of ``<sheetData>``: about 100 bytes a row, so memory grew
    with the sheet (20 MB at 200,000 rows, about 100 MB at a million), bare
    openpyxl included. Every thousand rows, the rows ``<sheetData>`` holds
    are dropped from it: the reader never looks back at them, and an element
    the parser made ahead keeps its own subtree. ElementTree keeps no parent
    links, so ``<sheetData>`` is found once per sheet among the first row's
    referrers; if it is not found, nothing changes.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    original = WorkSheetParser.parse_row
    if getattr(original, "releases_rows", False):
        return

    def parse_row(self: Any, row: Any) -> Any:
        parsed = original(self, row)
        read = self.__dict__.get("crm_rows_read", 0) + 1
        self.crm_rows_read = read
        if read % _RELEASE_EVERY_ROWS == 0:
            if "crm_sheet_data" not in self.__dict__:
                self.crm_sheet_data = _parent_of(row)
            if self.crm_sheet_data is not None:
                del self.crm_sheet_data[:]
        return parsed

    parse_row.releases_rows = True  # type: ignore[attr-defined]
    WorkSheetParser.parse_row = parse_row  # type: ignore[method-assign]


@contextmanager
def _dimensions_unread() -> Iterator[None]:
    """Open a workbook without openpyxl guessing each sheet's size.

    Every sheet's dimensions are reset before reading (a wrong
    ``<dimension>`` would cut it short), so the guess is never used; and
    for a sheet without one (openpyxl's own write-only files, many
    exporters) openpyxl looks for it by parsing the whole sheet once more,
    keeping every row element until the end: a second pass, and memory
    growing with the sheet. Others reading read-only workbooks meanwhile (a
    thread of the local stack) only read all rows of theirs, as we do.
    """
    from openpyxl.worksheet import _read_only

    sheets: Any = _read_only.ReadOnlyWorksheet  # its private method, unknown to the stubs
    guess = sheets._get_size
    sheets._get_size = lambda self: None
    try:
        yield
    finally:
        sheets._get_size = guess


def _parent_of(row: Any) -> Any:
    import gc
    from xml.etree.ElementTree import Element

    for referrer in gc.get_referrers(row):
        if isinstance(referrer, Element) and referrer.tag == _SHEET_DATA:
            return referrer
    return None


def open_sheet(
    stream: BinaryIO, is_header: Callable[[list[str]], bool], sheet_name: str | None = None
) -> tuple[str, Iterator[list[str]]]:
    """The chosen sheet's name and its rows as text, from the header row on."""
    import openpyxl

    _release_rows_as_read()
    check_archive(stream)
    try:
        with _dimensions_unread():
            workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise UnreadableFileError(f"This workbook cannot be opened: {exc}") from exc
    candidates = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
    if sheet_name is not None:
        candidates = [ws for ws in workbook.worksheets if ws.title == sheet_name]
        if not candidates:
            names = ", ".join(ws.title for ws in workbook.worksheets)
            raise UnreadableFileError(f"There is no sheet named {sheet_name!r} (sheets: {names}).")
    for worksheet in candidates:
        # A wrong <dimension> would cut the sheet short: ignore it.
        worksheet.reset_dimensions()
        merges = _merged_ranges(workbook, worksheet)
        rows = _text_rows(worksheet, merges, needs_formats=_has_zero_formats(workbook))
        head = []
        for _ in range(HEADER_SEARCH_ROWS):
            row = next(rows, None)
            if row is None:
                break
            head.append(row)
            if is_header(row):
                # From the sheet's first row, so row numbers are the sheet's.
                return worksheet.title, _chain(head, rows)
    raise UnreadableFileError(
        "No sheet has a header row with an email or phone column "
        f"(sheets: {', '.join(ws.title for ws in workbook.worksheets)})."
    )


def _chain(first: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from first
    yield from rest


def _merged_ranges(workbook: Any, worksheet: Any) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of every merged range of the sheet."""
    from openpyxl.utils import column_index_from_string

    # openpyxl's read-only sheets keep their part name and the open archive.
    path = getattr(worksheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if not path or archive is None:
        return []
    ranges = []
    tail = b""
    with archive.open(str(path).lstrip("/")) as xml:
        while chunk := xml.read(1024 * 1024):
            data = tail + chunk
            # A plain search first: most chunks hold cells only, and the
            # pattern, which starts at every "<", is ten times slower.
            matches = _MERGE.finditer(data) if b"mergeCell" in data else ()
            for match in matches:
                c1, r1, c2, r2 = match.groups()
                ranges.append(
                    (
                        int(r1),
                        column_index_from_string(c1.decode()),
                        int(r2),
                        column_index_from_string(c2.decode()),
                    )
                )
            # Keep the end of the chunk: a tag may straddle two chunks.
            cut = data.rfind(b"<")
            tail = data[cut:] if cut >= len(data) - 200 else b""
    return ranges


def _has_zero_formats(workbook: Any) -> bool:
    """Whether a cell may have a number format like ``00000`` (so cells, not bare values, are read).

    Excel's built-in formats hold only ``0``, which shows a whole number as it
    is; the rest are the workbook's own, which openpyxl keeps in a list.
    """
    formats = getattr(workbook, "_number_formats", None)
    if formats is None:
        return True  # cannot tell: read every cell with its format
    return any(len(code) > 1 and _ZEROS.match(code) for code in formats)


def _text_rows(
    worksheet: Any, merges: list[tuple[int, int, int, int]], *, needs_formats: bool = True
) -> Iterator[list[str]]:
    """Rows as text, merged ranges filled lazily and only over cells the row has.

    A range is never expanded cell by cell: ``B2:XFD1048576`` in a tiny file
    costs one entry, not a billion.
    """
    if needs_formats:
        rows: Iterator[list[str]] = (
            [cell_text(cell) for cell in row] for row in _checked(worksheet.iter_rows())
        )
    else:
        # Plain text, most cells, is taken as it is without a call per cell.
        rows = (
            [
                value if value.__class__ is str and "_x005F_" not in value else value_text(value)
                for value in row
            ]
            for row in _checked(worksheet.iter_rows(values_only=True))
        )
    if not merges:
        yield from rows
        return
    starting: dict[int, list[tuple[int, int, int]]] = {}
    for min_row, min_col, max_row, max_col in merges:
        starting.setdefault(min_row, []).append((min_col, max_row, max_col))
    active: list[tuple[int, int, int, str]] = []  # (min_col, max_row, max_col, value)
    width = 0  # the widest row so far: merges fill no further
    for row_index, values in enumerate(rows, start=1):
        width = max(width, len(values))
        for min_col, max_row, max_col in starting.pop(row_index, ()):
            top_left = values[min_col - 1] if min_col <= len(values) else ""
            if top_left:
                active.append((min_col, max_row, max_col, top_left))
        active = [merge for merge in active if merge[1] >= row_index]
        for min_col, _, max_col, value in active:
            last = min(max_col, width)
            values.extend([""] * (last - len(values)))
            for column in range(min_col, last + 1):
                if not values[column - 1]:
                    values[column - 1] = value
        yield values


def _checked(rows: Iterator[Any]) -> Iterator[Any]:
    """The sheet's rows; a cell openpyxl cannot parse fails the file, naming the row."""
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # openpyxl raises ValueError, IndexError… on broken cells
            raise UnreadableFileError(
                f"The workbook is damaged after row {number}: {type(exc).__name__}: {exc}."
            ) from exc
        number += 1
        yield row


def cell_text(cell: Any) -> str:
    """A cell's value as the text Excel shows."""
    value = getattr(cell, "value", None)
    if value is None or isinstance(value, str):
        return _unescaped(value) if value and "_x005F_" in value else (value or "")
    return value_text(value, getattr(cell, "number_format", None) or "General")


def value_text(value: Any, number_format: str = "General") -> str:
    """A value as the text Excel shows in a cell of ``number_format``."""
    if isinstance(value, str):  # most cells: checked first
        return _unescaped(value) if "_x005F_" in value else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        return _number_text(value, number_format)
    return str(value)


def _unescaped(text: str) -> str:
    # "_x005F_" is the sheet XML's escape for "_" (before text that looks like
    # an escape). openpyxl decodes it in shared strings but not in inline ones
    # (which openpyxl's and our own exports write): the same text either way.
    return text.replace("_x005F_", "_")


def _number_text(value: int | float, number_format: str) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if _ZEROS.match(number_format):
            # "00000" keeps the leading zeros of postcodes and phone numbers.
            return f"{value:0{len(number_format)}d}"
        return str(value)
    # No exponent: 1.5e-07 is shown as 0.00000015, as Excel's General does.
    return format(Decimal(repr(value)).normalize(), "f")
