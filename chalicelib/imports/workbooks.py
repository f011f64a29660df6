"""XLSX workbooks: openpyxl opens them read-only; rows stream from the sheet XML.

- the sheet: the one named by the ``sheet`` option, else the first visible
  sheet whose first rows hold a contact-like header (an email or phone
  column), so an "Instructions" tab or a hidden archive is passed over;
- the header: the first of those rows that looks like one, so title rows
  above it are skipped;
- merged cells: read-only mode does not expose them, so their ranges are
  read from the sheet's XML and the top-left value fills the range;
- values: shown as Excel shows them (see :mod:`.sheet_reader`) — whole
  numbers without ``.0`` or an exponent, number formats like ``00000``
  applied, dates as ISO text, formulas as their saved values.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from chalicelib.imports.headers import find_header
from chalicelib.imports.sheet_reader import SheetReader, read_shared_strings, utf8_chunks
from chalicelib.imports.textfiles import UnreadableFileError

HEADER_SEARCH_ROWS = 20
# A workbook whose XML inflates past this is refused (a zip bomb, or a sheet
# no contact list needs).
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def check_archive(stream: BinaryIO) -> None:
    """Refuse what is not an XLSX, or would inflate absurdly (zip bomb)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            total = sum(info.file_size for info in archive.infolist())
            packed = sum(info.compress_size for info in archive.infolist()) or 1
            start = _start_of(archive, "xl/workbook.xml") if "xl/workbook.xml" in names else b""
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
    if _STRICT_NAMESPACE in start:
        raise UnreadableFileError(
            'This workbook is saved as "Strict Open XML Spreadsheet". Save it in Excel as '
            '"Excel Workbook (.xlsx)" or CSV and upload that.'
        )


# The namespace of ISO 29500 Strict workbooks, which openpyxl does not read.
_STRICT_NAMESPACE = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def _start_of(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as part:
        return part.read(4096)


@contextmanager
def _dimensions_unread() -> Iterator[None]:
    """Open a workbook without openpyxl guessing each sheet's size.

    Rows are read from the sheet's XML to its end, so the guess is never
    used; and for a sheet without a ``<dimension>`` (openpyxl's own write-only files, many
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


def open_sheet(
    stream: BinaryIO, is_header: Callable[[list[str]], bool], sheet_name: str | None = None
) -> tuple[str, Iterator[list[str]]]:
    """The chosen sheet's name and its rows as text, from the header row on."""
    check_archive(stream)
    try:
        with _dimensions_unread():
            workbook = _load(stream)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise UnreadableFileError(f"This workbook cannot be opened: {exc}") from exc
    # The sheet open when the file was saved first: of two years' lists, the
    # one the user was looking at.
    active = getattr(workbook, "active", None)
    ordered = sorted(workbook.worksheets, key=lambda ws: ws is not active)
    candidates = [ws for ws in ordered if ws.sheet_state == "visible"]
    if sheet_name is not None:
        candidates = [ws for ws in workbook.worksheets if ws.title == sheet_name] or [
            ws for ws in workbook.worksheets if ws.title.strip() == sheet_name.strip()
        ]
        if not candidates:
            names = ", ".join(repr(ws.title) for ws in workbook.worksheets)
            raise UnreadableFileError(f"There is no sheet named {sheet_name!r} (sheets: {names}).")
    fallback: tuple[str, Iterator[list[str]]] | None = None
    for worksheet in candidates:
        found = _contacts_of(workbook, worksheet, is_header)
        if found is None:
            continue
        rows, has_contacts = found
        if has_contacts or sheet_name is not None:
            return worksheet.title, rows
        # A header and no address under it: a "Read me" sheet's table of
        # fields ("Email | The contact's email"). Taken only if no sheet after
        # it has contacts.
        fallback = fallback or (worksheet.title, rows)
    if fallback is not None:
        return fallback
    if sheet_name is not None:
        raise UnreadableFileError(
            f"The sheet {sheet_name!r} has no header row with an email or phone column "
            f"in its first {HEADER_SEARCH_ROWS} rows."
        )
    raise UnreadableFileError(
        "No sheet has a header row with an email or phone column "
        f"(sheets: {', '.join(ws.title for ws in workbook.worksheets)})."
    )


def _contacts_of(
    workbook: Any, worksheet: Any, is_header: Callable[[list[str]], bool]
) -> tuple[Iterator[list[str]], bool] | None:
    """The sheet's rows from its first, and whether an address follows its header row;
    ``None`` when no header row is found in its first rows."""
    # A sheet's <dimension> is never trusted: a wrong one (C09) would cut it
    # short. The rows are read to the end of <sheetData>, and the worksheet
    # forgets any size it was told, for whatever else asks it.
    worksheet.reset_dimensions()
    merges = _merged_ranges(workbook, worksheet)
    rows = _filled(_checked(SheetReader(workbook, worksheet).rows()), merges)
    head: list[list[str]] = []
    searched = 0
    while searched < HEADER_SEARCH_ROWS:  # rows with something in them: a logo's rows are blank
        row = next(rows, None)
        if row is None:
            break
        head.append(row)
        searched += any(cell.strip() for cell in row)
        if is_header(row):
            below, rest = peek(rows, HEADER_SEARCH_ROWS)
            # From the sheet's first row, so row numbers are the sheet's.
            return _chain(head + below, rest), _has_an_address(row, below)
    if find_header(head) is not None:
        # Addresses under no header known here, or none: taken only if no sheet
        # has a header that names its columns (a "Read me" giving a help address).
        return _chain(head, rows), False
    return None


def peek(rows: Iterator[list[str]], count: int) -> tuple[list[list[str]], Iterator[list[str]]]:
    """The next ``count`` rows, and the rest; a damaged row among them is left for
    the import to meet in its turn, after the rows before it."""
    read: list[list[str]] = []
    try:
        read.extend(itertools.islice(rows, count))
    except UnreadableFileError as exc:
        return read, _raising(exc)
    return read, rows


def _raising(error: Exception) -> Iterator[list[str]]:
    raise error
    yield []  # a generator: raises when read, not when made


def _has_an_address(header: list[str], rows: list[list[str]]) -> bool:
    """Whether any row holds an email-like or phone-like value under its header's column."""
    from chalicelib.imports.headers import map_columns

    columns = map_columns(header)
    email, phone = columns.core.get("email"), columns.core.get("phone")
    for row in rows:
        if email is not None and email < len(row) and "@" in row[email]:
            return True
        if phone is not None and phone < len(row) and sum(c.isdigit() for c in row[phone]) >= 6:
            return True
    return False


def _load(stream: BinaryIO) -> Any:
    """openpyxl's read-only workbook, its shared strings read by :mod:`.sheet_reader`."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    class Reader(ExcelReader):
        def read_strings(self) -> None:
            manifest: Any = self.package
            part = manifest.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as source:
                    # Not a list, as openpyxl's own: only ever indexed.
                    self.shared_strings = read_shared_strings(source)  # type: ignore[assignment]

    reader = Reader(stream, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def _chain(first: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from first
    yield from rest


def _merged_ranges(workbook: Any, worksheet: Any) -> list[tuple[int, int, int]]:
    """(min_row, min_col, max_row) of every merged range of the sheet: what filling down
    needs (see :func:`_filled`)."""
    from openpyxl.utils import column_index_from_string

    # openpyxl's read-only sheets keep their part name and the open archive.
    path = getattr(worksheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if not path or archive is None:
        return []
    ranges = []
    tail = b""
    with archive.open(str(path).lstrip("/")) as xml:
        for chunk in utf8_chunks(xml, 1024 * 1024):
            data = tail + chunk
            # A plain search first: most chunks hold cells only, and the
            # pattern, which starts at every "<", is ten times slower.
            matches = _MERGE.finditer(data) if b"mergeCell" in data else ()
            for match in matches:
                c1, r1, c2, r2 = match.groups()
                try:
                    first = column_index_from_string(c1.decode())
                    column_index_from_string(c2.decode())  # within Excel's columns too
                except ValueError:  # beyond Excel's columns: no cell of the sheet is in it
                    continue
                ranges.append((int(r1), first, int(r2)))
            # Keep the end of the chunk: a tag may straddle two chunks.
            cut = data.rfind(b"<")
            tail = data[cut:] if cut >= len(data) - 200 else b""
    return ranges


def _filled(rows: Iterator[list[str]], merges: list[tuple[int, int, int]]) -> Iterator[list[str]]:
    """Rows with merged ranges filled down, lazily, and only over cells the row has.

    Down only: a range's value fills its first column in the rows below (a
    company merged over its people); across, it would become the next
    column's too ("Ann Lee" merged over first and last name is not also her
    last name). A range is never expanded cell by cell: ``B2:XFD1048576`` in
    a tiny file costs one entry, not a billion.
    """
    if not merges:
        yield from rows
        return
    starting: dict[int, list[tuple[int, int]]] = {}
    for min_row, min_col, max_row in merges:
        starting.setdefault(min_row, []).append((min_col, max_row))
    active: list[tuple[int, int, str]] = []  # (min_col, max_row, value)
    for row_index, values in enumerate(rows, start=1):
        for min_col, max_row in starting.pop(row_index, ()):
            top_left = values[min_col - 1] if min_col <= len(values) else ""
            if top_left:
                active.append((min_col, max_row, top_left))
        active = [merge for merge in active if merge[1] >= row_index]
        if not "".join(values).strip():
            # A blank row under a merged cell stays blank: filled, it would be a
            # contact made of one company name.
            yield values
            continue
        for min_col, _, value in active:
            # The merge's column held its value in its first row: padding a
            # shorter row up to it never goes past the sheet's own width.
            values.extend([""] * (min_col - len(values)))
            if not values[min_col - 1]:
                values[min_col - 1] = value
        yield values


def _checked(rows: Iterator[Any]) -> Iterator[Any]:
    """The sheet's rows; a cell openpyxl cannot parse fails the file, naming the row."""
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except UnreadableFileError:
            raise
        except Exception as exc:  # openpyxl raises ValueError, IndexError… on broken cells
            raise UnreadableFileError(
                f"The workbook is damaged after row {number}: {type(exc).__name__}: {exc}."
            ) from exc
        number += 1
        yield row
