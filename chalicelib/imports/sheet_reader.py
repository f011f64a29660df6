"""A worksheet's rows as the text Excel shows, read straight from the workbook's XML.

openpyxl opens the workbook (its parts, styles, date formats, epoch) and
stays the judge of every unusual cell; the sheet's rows and the shared
strings are walked here. openpyxl's read-only rows cost 18 µs (shared
strings) to 45 µs (inline strings) a row of six cells: Python code per XML
event, a dict per cell, an object tree per string, then a tuple per row,
and its string table another 4 µs per distinct string. That was more than
the whole rest of an import. Here the XML is built into elements by the C
parser with no per-event Python at all, and only finished rows are walked.
The usual cells are decoded where they lie:

- a shared or inline string (rich text as its runs joined), a formula's
  text result, a boolean, a number in a style that is not a date;

and the rest (dates, ISO date cells, anything odd) are
handed to openpyxl's own cell parser, so they read as openpyxl reads them.
The tests hold both readings equal on every workbook they have.

What a cell cannot give is said, not guessed: an Excel error (``#N/A``) or a
formula Excel never calculated reads as empty, and the row carries a note
naming the column (see :class:`RowWithNotes`).
"""

from __future__ import annotations

import codecs
import math
import os
import re
import tempfile
from array import array
from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element, TreeBuilder, XMLParser

from chalicelib.imports.cell_text import unescaped, value_text
from chalicelib.imports.textfiles import UnreadableFileError

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW = _MAIN + "row"
_SHEET_DATA = _MAIN + "sheetData"
_STRING_TABLE = _MAIN + "sst"
_STRING = _MAIN + "si"
_VALUE = _MAIN + "v"
_FORMULA = _MAIN + "f"
_INLINE = _MAIN + "is"
_TEXT = _MAIN + "t"
_RUN = _MAIN + "r"
_CHUNK_BYTES = 64 * 1024
_DIGITS = "0123456789"
# Excel's grid: a row or cell beyond it is damage (or a trap), never data.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
_DECLARED_ENCODING = re.compile(r"""\A(<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
NEVER_CALCULATED = "A formula Excel never calculated: open the file in Excel and save it again."


class RowWithNotes(list[str]):
    """A row with cells that hold no value to import: column index (0-based) → why."""

    notes: dict[int, str]


def utf8_chunks(source: IO[bytes], size: int) -> Iterator[bytes]:
    """An XML part's bytes in chunks of UTF-8, whatever Unicode form it was saved in.

    Excel writes UTF-8; a part in UTF-16 (a few generators, or someone
    hiding a DOCTYPE from a byte search) is re-encoded, its declaration made
    to say so, so every check on the bytes sees what the parser reads.
    """
    first = source.read(size)
    encoding = _utf16_form(first)
    if encoding is None:
        while first:
            yield first
            first = source.read(size)
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    text = decoder.decode(first).removeprefix("\ufeff")
    yield _DECLARED_ENCODING.sub(r'\1"UTF-8"', text, count=1).encode("utf-8")
    while chunk := source.read(size):
        yield decoder.decode(chunk).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


def _utf16_form(start: bytes) -> str | None:
    if start.startswith((codecs.BOM_UTF16_LE, b"<\x00")):
        return "utf-16-le"
    if start.startswith((codecs.BOM_UTF16_BE, b"\x00<")):
        return "utf-16-be"
    return None


def finished_children(source: IO[bytes], parent_tag: str) -> Iterator[Element]:
    """The children of the first ``parent_tag`` element, each once it is complete.

    The C parser builds the tree; events are asked for only until the parent
    opens, then turned off, so no Python runs per element. After each chunk
    every child but the last (which may still be growing) is handed on and
    dropped from the parent, and whatever else the part holds is dropped
    too: memory holds one chunk's rows, however long the sheet and whatever
    comes before it. Reading stops where the parent ends. ``_setevents`` is
    how the standard library's own pull parser asks for events; there is no
    public way to stop them.
    """
    # The C parser: ElementTree's, as openpyxl's. defusedxml's parser is
    # pure Python, calling back per element; expat 2.4+ limits entity
    # expansion, and a DOCTYPE, which Excel never writes, is refused below.
    parser = XMLParser(target=TreeBuilder())  # noqa: S314
    events: list[tuple[str, Element]] = []
    parser._setevents(events, ("start",))  # type: ignore[attr-defined]
    root: Element | None = None
    parent: Element | None = None
    prolog: bytes | None = b""  # the bytes before the first element, where a DOCTYPE would be
    for chunk in utf8_chunks(source, _CHUNK_BYTES):
        if prolog is not None:
            if b"<!DOCTYPE" in prolog[-16:] + chunk:
                raise UnreadableFileError(
                    "This workbook's XML declares a DOCTYPE, which Excel never writes; "
                    "it was not read."
                )
            prolog = chunk
        parser.feed(chunk)
        if events:
            prolog = None
            root = root if root is not None else events[0][1]
        if parent is None:
            parent = next((element for _, element in events if element.tag == parent_tag), None)
            events.clear()
            if parent is None:
                if root is not None:
                    _keep_open_path(root)
                continue
            parser._setevents(events, ())  # type: ignore[attr-defined]
        if root is not None and root is not parent:
            _keep_open_path(root, parent)
        if len(parent) and len(parent[-1]) > MAX_COLUMNS:
            raise UnreadableFileError(
                f"A row of this sheet has more than {MAX_COLUMNS:,} cells, Excel's limit: "
                "the file is damaged."
            )
        ended = root is not None and root is not parent and root[-1] is not parent
        done = parent[:] if ended else parent[:-1]
        del parent[: len(done)]
        yield from done
        if ended:
            return  # what follows the rows is not read (merged ranges are found apart)
    parser.close()
    if parent is not None:
        yield from list(parent)


def _keep_open_path(root: Element, keep: Element | None = None) -> None:
    """Drop every finished element but ``keep`` (a child of ``root``): only the
    elements still open, the last child at each level, stay."""
    element = root
    while len(element):
        last = element[-1]
        del element[:-1]
        if element is root and keep is not None and last is not keep:
            root.insert(0, keep)
        if last is keep:
            return
        element = last


class SharedStrings:
    """A workbook's shared string table, kept on disk: 4 bytes of memory a string.

    Excel puts a sheet's text in one table that cells refer to by number,
    in any order, so the whole table must be at hand before the first row.
    As Python strings it took about 70 bytes a string: 28 MB for a
    100,000-row contact list, growing with the file. Here the text goes to a
    temporary file as UTF-8 and only where each string starts stays in memory.
    """

    def __init__(self) -> None:
        # Closed by close(), or when the table is dropped with its workbook.
        self._file = tempfile.TemporaryFile()  # noqa: SIM115
        # 4-byte offsets: the text is smaller than the XML it came from, which
        # check_archive keeps under 2 GB.
        self._ends = array("I")
        self._size = 0

    def append(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        self._file.write(data)
        self._size += len(data)
        self._ends.append(self._size)

    def finish(self) -> None:
        """Done appending: the text is readable from here on."""
        self._file.flush()
        self._fd = self._file.fileno()

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        end = self._ends[index]  # IndexError for a string the table does not have
        start = self._ends[index - 1] if index else 0
        return os.pread(self._fd, end - start, start).decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return len(self._ends)

    def close(self) -> None:
        self._file.close()


def read_shared_strings(source: IO[bytes]) -> SharedStrings:
    """The workbook's shared strings as plain text, escapes decoded."""
    strings = SharedStrings()
    for item in finished_children(source, _STRING_TABLE):
        if item.tag == _STRING:
            text = _plain_text(item)
            strings.append(unescaped(text) if "_x" in text else text)
    strings.finish()
    return strings


def _plain_text(item: Element) -> str:
    """A string item's text (``<si>``, ``<is>``): its own ``<t>``, or its runs' joined.

    Phonetic guides (``<rPh>``, the readings over Japanese text) are not
    the cell's text; nor are run properties. openpyxl's ``Text.content``
    reads the same parts, but refuses runs whose properties it cannot
    parse: the text is there either way.
    """
    if len(item) == 1 and item[0].tag == _TEXT:
        return item[0].text or ""  # nearly every string
    parts = []
    for child in item:
        if child.tag == _TEXT:
            parts.append(child.text or "")
        elif child.tag == _RUN:
            parts.append(child.findtext(_TEXT) or "")
    return "".join(parts)


class SheetReader:
    """Rows of one read-only openpyxl worksheet, as lists of text from row 1."""

    def __init__(self, workbook: Any, worksheet: Any) -> None:
        from openpyxl.worksheet._reader import WorkSheetParser

        parser_type: Any = WorkSheetParser  # the stubs want a source; none is read
        self._workbook = workbook
        self._worksheet = worksheet
        self._shared: SharedStrings | list[str] = worksheet._shared_strings
        # openpyxl's parser for the cells decoded there; it reads no file itself.
        self._parser = parser_type(
            None,
            self._shared,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        self._styles: dict[str | None, tuple[bool, str]] = {}
        # Writers that cannot calculate (xlsxwriter, pandas) save 0 as every
        # formula's result and ask Excel to recalculate on opening.
        calculation = getattr(workbook, "calculation", None)
        self._zeros_unsure = bool(getattr(calculation, "fullCalcOnLoad", False))
        self._columns: dict[str, int] = {}

    def rows(self) -> Iterator[list[str]]:
        """Every row from the sheet's first, a missing row as an empty list."""
        with self._worksheet._get_source() as source:
            expected = 1
            for row in finished_children(source, _SHEET_DATA):
                if row.tag != _ROW:
                    continue
                number = _row_number(row, expected)
                if number < expected:
                    # Excel writes each row once, in order. Read as they come, a
                    # row out of place would take another's number, and every
                    # later row's number (in the report) would be wrong.
                    raise UnreadableFileError(
                        f"The sheet lists row {number} after row {expected - 1}, which Excel "
                        "never does: the file is damaged. Open it in Excel and save it again."
                    )
                while expected < number:  # rows the file leaves out are empty
                    expected += 1
                    yield []
                expected = number + 1
                yield self._row(row)

    def _row(self, row: Element) -> list[str]:
        values: list[str] = []
        notes: dict[int, str] | None = None
        columns, shared = self._columns, self._shared  # locals: read for every cell
        for cell in row:
            ref = cell.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                index = columns.get(letters)
                if index is None:
                    index = self._column(letters)
            else:
                index = len(values)
            kind = cell.get("t")
            if kind == "s":
                value = cell.findtext(_VALUE)
                text = shared[int(value)] if value else ""
            elif kind is None or kind == "n":
                text = self._number(cell)
            elif kind == "inlineStr":
                text = self._inline(cell)
            elif kind == "str":
                text = value_text(cell.findtext(_VALUE) or "")
            elif kind == "b":
                text = _boolean_text(cell.findtext(_VALUE))
            elif kind == "e":
                text = ""
                notes = notes or {}
                notes[index] = f"Excel shows the error {cell.findtext(_VALUE)} here."
            else:
                text = self._by_openpyxl(cell)
            if (
                text == "0"
                and self._zeros_unsure
                and kind in (None, "n")
                and cell.find(_FORMULA) is not None
            ):
                text = ""  # a placeholder, not a result: said so below
            if not text and cell.find(_FORMULA) is not None and _uncalculated(cell, kind):
                notes = notes or {}
                notes[index] = NEVER_CALCULATED
            if index == len(values):
                values.append(text)
            elif index > len(values):
                values.extend([""] * (index - len(values)))
                values.append(text)
            else:
                values[index] = text  # a cell out of order: the last one read wins
        if notes is None:
            return values
        noted = RowWithNotes(values)
        noted.notes = notes
        return noted

    def _column(self, letters: str) -> int:
        from openpyxl.utils import column_index_from_string

        # A reference with spaces around it ("B2 ") is read as openpyxl reads it.
        index = column_index_from_string(letters.strip().rstrip(_DIGITS)) - 1
        self._columns[letters] = index
        return index

    def _number(self, cell: Element) -> str:
        value = cell.findtext(_VALUE)
        if not value:
            return ""
        is_date, number_format = self._style(cell.get("s"))
        if is_date:
            number = _number_of(value)
            if not 0 <= number <= _LAST_SERIAL:
                # No date (20230315 in yyyymmdd): the digits as stored, where
                # openpyxl would warn and make it "#VALUE!".
                return value_text(number)
            return self._by_openpyxl(cell)
        return value_text(_number_of(value), number_format)

    def _inline(self, cell: Element) -> str:
        inline = cell.find(_INLINE)
        return "" if inline is None else value_text(_plain_text(inline))

    def _by_openpyxl(self, cell: Element) -> str:
        from openpyxl.utils.datetime import from_excel

        value = self._parser.parse_cell(cell)["value"]
        is_date, number_format = self._style(cell.get("s"))
        if cell.get("t") in (None, "n") and isinstance(value, str):
            # openpyxl's "#VALUE!" for a date beyond its calendar (20230315 in
            # yyyymmdd): the number as stored, not an error nobody wrote.
            return value_text(_number_of(cell.findtext(_VALUE) or ""))
        if is_date and isinstance(value, int | float) and not isinstance(value, bool):
            try:  # a date format openpyxl does not know (Excel's East Asian ones)
                value = from_excel(value, self._workbook.epoch)
            except (OverflowError, ValueError):
                number_format = "General"
        return value_text(value, number_format)

    def _style(self, style_id: str | None) -> tuple[bool, str]:
        """(whether openpyxl reads the style's numbers as dates, its number format)."""
        known = self._styles.get(style_id)
        if known is None:
            known = self._styles[style_id] = self._look_up_style(int(style_id or 0))
        return known

    def _look_up_style(self, style_id: int) -> tuple[bool, str]:
        from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

        workbook = self._workbook
        is_date = style_id in workbook._date_formats
        try:
            format_id = workbook._cell_styles[style_id].numFmtId
        except IndexError:
            return is_date, "General"
        if format_id in _LOCALE_DATES:
            return True, _LOCALE_DATES[format_id]
        if format_id < BUILTIN_FORMATS_MAX_SIZE:
            return is_date, BUILTIN_FORMATS.get(format_id, "General")
        try:
            return is_date, workbook._number_formats[format_id - BUILTIN_FORMATS_MAX_SIZE]
        except IndexError:  # a format the styles never define: shown as General
            return is_date, "General"


# Built-in formats Excel shows as dates or times in Chinese, Japanese and
# Korean settings (年月日), which openpyxl reads as plain numbers.
_LOCALE_DATES = {
    **{number: "yyyy-mm-dd" for number in (27, 28, 29, 30, 31, 36, *range(50, 59))},
    **{number: "h:mm:ss" for number in (32, 33, 34, 35)},
}


_LAST_SERIAL = 2_958_465  # 9999-12-31, Excel's last day


def _number_of(value: str) -> int | float:
    return float(value) if "." in value or "E" in value or "e" in value else int(value)


def _uncalculated(cell: Element, kind: str | None) -> bool:
    """Whether a formula cell has no saved result (scripts write ``<v/>``, none, or a
    0 the workbook asks to recalculate).

    Only a text result may be empty: a formula can give ``""``.
    """
    value = cell.find(_VALUE)
    return value is None or ((value.text or "").strip() in ("", "0") and kind != "str")


def _boolean_text(value: str | None) -> str:
    """A boolean cell as Excel shows it; empty when it holds no value (a formula never
    calculated), as openpyxl reads it."""
    value = (value or "").strip()
    if not value:
        return ""
    return "FALSE" if value in ("0", "false") else "TRUE"


def _row_number(row: Element, expected: int) -> int:
    ref = row.get("r")
    if ref is None:
        return expected
    try:
        number = float(ref)  # "5.0" from some writers; openpyxl takes it too
    except ValueError:
        number = math.nan
    if not number.is_integer() or not 1 <= number <= MAX_ROWS:
        raise UnreadableFileError(
            f"The sheet has a row numbered {ref[:20]!r}; Excel's rows are 1 to {MAX_ROWS:,}: "
            "the file is damaged."
        )
    return int(number)
