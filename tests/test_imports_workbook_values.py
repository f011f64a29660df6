"""Workbook cells read from the sheet XML give the text openpyxl's own reading gives.

The import walks the sheet's XML itself (four times faster than openpyxl's
read-only rows); openpyxl reading every cell with its number format is the
reference it is held to, on every workbook these tests have.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest

from tests.conftest import CASES


def _typed_workbook(zero_format: str | None = None, *, epoch_1904: bool = False) -> bytes:
    """Every kind of value a cell holds, merged cells, gaps and a formula."""
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    workbook = openpyxl.Workbook()
    if epoch_1904:
        workbook.epoch = openpyxl.utils.datetime.MAC_EPOCH
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Email", "Phone", "Joined", "Score", "Active", "Code", "Team"])
    rows = [
        ["a@example.com", 447700900123, dt.datetime(2023, 3, 15), 1.5, True, 1234, "Red"],
        ["b@example.com", 33612345678.0, dt.datetime(2023, 3, 15, 9, 30), 1.5e-7, False, 7, None],
        ["c@example.com", None, dt.date(1990, 4, 3), -2.0, None, 0, None],
        ["d@example.com", "+44 20 7946 0018", dt.time(8, 15), 1e20, "text", "=1+1", "Blue"],
    ]
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("G2:G3")
    sheet["C5"].number_format = "0.00"
    sheet["A8"] = "e@example.com"  # rows 6 and 7 left out of the file
    sheet["E8"] = "far right"  # B8:D8 left out of the row
    sheet["B8"].number_format = "0.00%"  # a styled empty cell
    sheet["A9"] = CellRichText(["f@", TextBlock(InlineFont(b=True), "example.com")])
    sheet["D9"] = dt.timedelta(hours=36)
    sheet["H9"], sheet["I9"] = 0.25, 1234.5
    sheet["H9"].number_format, sheet["I9"].number_format = "0%", "$#,##0.00"
    if zero_format:
        for row_number in range(2, 6):
            sheet.cell(row=row_number, column=6).number_format = zero_format
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_shared_strings(data: bytes) -> bytes:
    """The same workbook with its text in a shared string table, as Excel saves it."""
    import re

    strings: list[str] = []

    def share(match: re.Match[bytes]) -> bytes:
        strings.append(match.group(2).decode())
        return match.group(1) + b' t="s"><v>' + str(len(strings) - 1).encode() + b"</v></c>"

    plain = re.compile(
        rb'(<c r="[A-Z]+\d+"(?: s="\d+")?) t="inlineStr"><is><t>([^<]*)</t></is></c>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                part = plain.sub(share, part)
            elif item.filename == "[Content_Types].xml":
                part = part.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                part = part.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    b"</Relationships>",
                )
            target.writestr(item, part)
        table = "".join(f"<si><t>{text}</t></si>" for text in strings)
        target.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{table}</sst>',
        )
    assert strings, "the workbook had no plain inline strings to share"
    return out.getvalue()


def _trimmed(rows: list[list[str]]) -> list[list[str]]:
    for row in rows:  # in place: a row may carry notes
        while row and row[-1] == "":
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _ours(data: bytes) -> list[list[list[str]]]:
    from chalicelib.imports.sheet_reader import SheetReader
    from chalicelib.imports.workbooks import _load

    workbook = _load(io.BytesIO(data))
    return [_trimmed(list(SheetReader(workbook, sheet).rows())) for sheet in workbook.worksheets]


def _openpyxl_reading(data: bytes) -> list[list[list[str]]]:
    """openpyxl's read-only cells, each as the text of its value in its number format."""
    import openpyxl

    from chalicelib.imports.cell_text import value_text

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheets = []
    for sheet in workbook.worksheets:
        sheet.reset_dimensions()
        rows = [
            [value_text(getattr(cell, "value", None), _format_of(cell)) for cell in row]
            for row in sheet.iter_rows()
        ]
        sheets.append(_trimmed(rows))
    return sheets


def _format_of(cell: Any) -> str:
    return getattr(cell, "number_format", None) or "General"


WORKBOOKS = {
    "typed": _typed_workbook(),
    "typed-00000": _typed_workbook("00000"),
    "typed-1904": _typed_workbook(epoch_1904=True),
    "typed-shared-strings": _with_shared_strings(_typed_workbook()),
    "C08": (CASES / "C08_xlsx_typed_cells.xlsx").read_bytes(),
    "C09": (CASES / "C09_xlsx_bad_dimension.xlsx").read_bytes(),
    "C11": (CASES / "C11_xlsx_sheets_merged.xlsx").read_bytes(),
}


@pytest.mark.parametrize("data", list(WORKBOOKS.values()), ids=list(WORKBOOKS))
def test_can_read_every_cell_as_openpyxl_reads_it(data: bytes) -> None:
    assert _ours(data) == _openpyxl_reading(data)


def test_can_read_typed_cells_as_excel_shows_them() -> None:
    (rows,) = _ours(_typed_workbook())
    assert rows[1] == ["a@example.com", "447700900123", "2023-03-15", "1.5", "TRUE", "1234", "Red"]
    assert rows[2] == [
        "b@example.com",
        "33612345678",
        "2023-03-15T09:30:00",
        "0.00000015",
        "FALSE",
        "7",
    ]
    assert rows[3] == ["c@example.com", "", "1990-04-03", "-2", "", "0"]
    assert rows[4][3] == "100000000000000000000"
    assert rows[5:7] == [[], []]  # rows the file leaves out keep the sheet's numbering
    assert rows[7] == ["e@example.com", "", "", "", "far right"]
    assert rows[8][0] == "f@example.com"  # rich text: its runs joined
    assert rows[8][7:] == ["25%", "$1,234.50"]  # as the number formats show them


def test_can_keep_leading_zeros_of_a_zeros_format() -> None:
    from chalicelib.imports.sheet_reader import NEVER_CALCULATED

    (rows,) = _ours(_typed_workbook("00000"))
    assert [row[5] for row in rows[1:4]] == ["01234", "00007", "00000"]
    # openpyxl saved "=1+1" without a value, as scripts do: empty, and said so.
    assert rows[4][5] == ""
    assert rows[4].notes == {5: NEVER_CALCULATED}  # type: ignore[attr-defined]


def test_can_read_shared_strings_as_excel_saves_them() -> None:
    (rows,) = _ours(_with_shared_strings(_typed_workbook()))
    assert rows[0] == ["Email", "Phone", "Joined", "Score", "Active", "Code", "Team"]
    assert rows[1][0] == "a@example.com"


def _sheet(cells: str) -> bytes:
    """A one-sheet workbook whose second row is ``cells`` (raw sheet XML)."""
    from tests.imports_helpers import workbook_with

    return workbook_with(
        [["email", "first_name", "company"]], f"<row r='2'>{cells}</row></sheetData>"
    )


def test_excel_errors_and_uncalculated_formulas_read_empty_with_a_note() -> None:
    from chalicelib.imports.sheet_reader import NEVER_CALCULATED, RowWithNotes

    data = _sheet(
        '<c r="A2" t="inlineStr"><is><t>a@example.com</t></is></c>'
        '<c r="B2" t="e"><f>VLOOKUP(A2,X:Y,2,0)</f><v>#N/A</v></c>'
        '<c r="C2"><f>A2&amp;"!"</f></c>'
    )
    (rows,) = _ours(data)
    row = rows[1]
    assert row == ["a@example.com"]  # the two empty cells trimmed by _trimmed
    assert isinstance(row, RowWithNotes)
    assert row.notes == {1: "Excel shows the error #N/A here.", 2: NEVER_CALCULATED}


def test_escaped_characters_are_decoded_once() -> None:
    from chalicelib.imports.cell_text import unescaped

    assert unescaped("Line_x000D_two") == "Line\rtwo"
    assert unescaped("_x005F_x000D_") == "_x000D_"  # an escaped underscore before escape-like text
    assert unescaped("a_xD800_b") == "a_xD800_b"  # half a surrogate pair stays as written
    data = _sheet('<c r="A2" t="inlineStr"><is><t>snake_x005F_x0041_case@example.com</t></is></c>')
    assert _ours(data)[0][1] == ["snake_x0041_case@example.com"]


def test_a_sheet_declaring_a_doctype_is_refused() -> None:
    from chalicelib.imports.sheet_reader import finished_children
    from chalicelib.imports.textfiles import UnreadableFileError

    doctype = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet><sheetData/></worksheet>'
    for padding in (b"", b"<!--" + b" " * 70_000 + b"-->", b" " * 65_530):
        with pytest.raises(UnreadableFileError, match="DOCTYPE"):
            list(finished_children(io.BytesIO(padding + doctype), "sheetData"))


def test_rows_are_handed_on_as_the_sheet_is_read() -> None:
    from chalicelib.imports.sheet_reader import finished_children

    rows = "".join(f"<row r='{n}'><c><v>{n}</v></c></row>" for n in range(1, 20_001))
    xml = io.BytesIO(f"<worksheet><sheetData>{rows}</sheetData><x/></worksheet>".encode())
    children = finished_children(xml, "sheetData")
    first = next(children)
    # One chunk of 64 KB was read, not the whole 700 KB sheet.
    assert first.get("r") == "1" and xml.tell() < 100_000
    assert sum(1 for _ in children) == 19_999


def test_shared_strings_are_read_whole_and_by_number() -> None:
    from chalicelib.imports.sheet_reader import read_shared_strings

    xml = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>Zoë</t></si>"
        "<si><r><t>Ana </t></r><r><rPr><b/></rPr><t>Souza</t></r><rPh><t>ignored</t></rPh></si>"
        "<si><t>two_x000D_lines</t></si><si><t/></si>"
        "</sst>"
    ).encode()
    strings = read_shared_strings(io.BytesIO(xml))
    assert [strings[i] for i in range(len(strings))] == ["Zoë", "Ana Souza", "two\rlines", ""]
    for missing in (4, -1):
        with pytest.raises(IndexError):
            strings[missing]


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _sheet_xml(rows: str, before: str = "", after: str = "") -> bytes:
    namespace = _MAIN.strip("{}")
    return (
        f'<worksheet xmlns="{namespace}">{before}<sheetData>{rows}</sheetData>{after}</worksheet>'
    ).encode()


def test_a_doctype_in_a_utf16_sheet_is_refused_too() -> None:
    """The DOCTYPE check reads what the parser reads, whatever the part's Unicode form."""
    from chalicelib.imports.sheet_reader import finished_children
    from chalicelib.imports.textfiles import UnreadableFileError

    xml = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE w [<!ENTITY a "xxxx">]><w><sheetData/></w>'
    )
    for encoded in (xml.encode("utf-16"), xml.encode("utf-16-le"), xml.encode("utf-16-be")):
        with pytest.raises(UnreadableFileError, match="DOCTYPE"):
            list(finished_children(io.BytesIO(encoded), "sheetData"))


def test_a_utf16_sheet_is_read_with_its_merged_cells() -> None:
    from chalicelib.imports.workbooks import open_sheet
    from tests.imports_helpers import with_part_changed, workbook_with

    data = workbook_with(
        [["email", "company"], ["a@example.com", "Acme"], ["b@example.com", None]],
        '</sheetData><mergeCells count="1"><mergeCell ref="B2:B3"/></mergeCells>',
    )
    data = with_part_changed(
        data,
        "xl/worksheets/sheet1.xml",
        lambda part: (
            part.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
        ),
    )
    _, rows = open_sheet(io.BytesIO(data), lambda row: "email" in row)
    assert list(rows) == [
        ["email", "company"],
        ["a@example.com", "Acme"],
        ["b@example.com", "Acme"],
    ]


@pytest.mark.parametrize(
    ("numbers", "row"),
    [(["2", "4", "3"], "row 3 after row 4"), (["2", "2"], "row 2 after row 2")],
)
def test_rows_out_of_order_fail_the_file_instead_of_shifting_every_later_row(
    numbers: list[str], row: str
) -> None:
    from chalicelib.imports.textfiles import UnreadableFileError
    from tests.imports_helpers import workbook_with

    cells = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>p{n}@example.com</t></is></c></row>'
        for n in numbers
    )
    data = workbook_with([["email"]], cells + "</sheetData>")
    with pytest.raises(UnreadableFileError, match=row):
        _ours(data)


@pytest.mark.parametrize("number", ["0", "1048577", "1e300", "inf", "x"])
def test_a_row_number_outside_excels_grid_fails_the_file(number: str) -> None:
    from chalicelib.imports.textfiles import UnreadableFileError
    from tests.imports_helpers import workbook_with

    data = workbook_with([["email"]], f'<row r="{number}"><c t="b"><v>1</v></c></row></sheetData>')
    with pytest.raises(UnreadableFileError, match="Excel's rows are 1 to 1,048,576"):
        _ours(data)


def test_booleans_read_as_excel_shows_them() -> None:
    from chalicelib.imports.sheet_reader import NEVER_CALCULATED

    data = _sheet(
        '<c r="A2" t="b"><v> 1 </v></c><c r="B2" t="b"><v>0</v></c>'
        '<c r="C2" t="b"><f>A2&gt;0</f></c><c r="D2" t="b"><v>2</v></c><c r="E2" t="b"><v/></c>'
    )
    (rows,) = _ours(data)
    assert rows[1] == ["TRUE", "FALSE", "", "TRUE"]
    assert rows[1].notes == {2: NEVER_CALCULATED}  # type: ignore[attr-defined]


def test_odd_references_formats_and_merges_do_not_fail_the_file() -> None:
    """A cell reference with a space, a style naming a format never defined, a number
    too big for a double, a merge beyond Excel's columns: read, not refused."""
    from chalicelib.imports.workbooks import open_sheet
    from tests.imports_helpers import with_part_changed, workbook_with

    data = workbook_with(
        [["email", "score", "n"]],
        '<row r="2"><c r="A2 " t="inlineStr"><is><t>a@example.com</t></is></c>'
        '<c r="B2"><v>1e400</v></c><c r="C2" s="1"><v>7</v></c></row></sheetData>'
        '<mergeCells count="1"><mergeCell ref="AAAA1:AAAB2"/></mergeCells>',
    )
    # cellXfs gets a second style, numFmtId 170, which no <numFmt> defines.
    data = with_part_changed(
        data,
        "xl/styles.xml",
        lambda part: part.replace(
            b"</cellXfs>", b'<xf numFmtId="170" applyNumberFormat="1"/></cellXfs>'
        ).replace(b'cellXfs count="1"', b'cellXfs count="2"'),
    )
    _, rows = open_sheet(io.BytesIO(data), lambda row: "email" in row)
    assert list(rows)[1] == ["a@example.com", "inf", "7"]


def test_memory_holds_one_chunk_whatever_surrounds_the_rows() -> None:
    """Elements before and after <sheetData> are dropped as read, and reading stops
    where the rows end, so a small file of junk elements cannot fill memory."""
    import tracemalloc

    from chalicelib.imports.sheet_reader import finished_children

    junk = "<x/>" * 200_000
    rows = "".join(f'<row r="{n}"><c><v>{n}</v></c></row>' for n in range(1, 3))
    xml = io.BytesIO(_sheet_xml(rows, before=f"<cols>{junk}</cols>", after=junk))
    tracemalloc.start()
    try:
        seen = [row.get("r") for row in finished_children(xml, _MAIN + "sheetData")]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == ["1", "2"]
    assert peak < 3_000_000  # kept whole, the 200,000 elements before the rows took ~15 MB
    assert xml.tell() < len(xml.getvalue()) - 500_000  # the junk after the rows was never read


def test_a_row_wider_than_excel_fails_the_file_while_it_is_read() -> None:
    from chalicelib.imports.sheet_reader import finished_children
    from chalicelib.imports.textfiles import UnreadableFileError

    xml = io.BytesIO(_sheet_xml("<row>" + "<c/>" * 200_000 + "</row>"))
    with pytest.raises(UnreadableFileError, match="more than 16,384 cells"):
        list(finished_children(xml, _MAIN + "sheetData"))


def _rows_of(data: bytes, sheet: str | None = None) -> list[list[str]]:
    from chalicelib.imports.workbooks import open_sheet

    _, rows = open_sheet(io.BytesIO(data), lambda row: "email" in row, sheet)
    return list(rows)  # each row as read: a RowWithNotes keeps its notes


def test_placeholder_zeros_of_a_workbook_to_be_recalculated_read_empty_with_a_note() -> None:
    """xlsxwriter (pandas) saves 0 as every formula's result and asks Excel to recalculate:
    that 0 is not the email or the name the formula makes."""
    from chalicelib.imports.sheet_reader import NEVER_CALCULATED
    from tests.imports_helpers import with_part_changed, workbook_with

    data = workbook_with(
        [["email", "first_name", "score"]],
        '<row r="2"><c r="A2"><f>LOWER("A@EXAMPLE.COM")</f><v>0</v></c>'
        '<c r="B2" t="str"><f>"Ann"</f><v>Ann</v></c><c r="C2"><f>1+1</f><v>2</v></c></row>'
        "</sheetData>",
    )
    recalculated = with_part_changed(
        data,
        "xl/workbook.xml",
        lambda part: (
            part.replace(b"<calcPr ", b'<calcPr fullCalcOnLoad="1" ', 1)
            if b"fullCalcOnLoad" not in part
            else part
        ),
    )
    row = _rows_of(recalculated)[1]
    assert row == ["", "Ann", "2"]
    assert row.notes == {0: NEVER_CALCULATED}  # type: ignore[attr-defined]


def test_a_value_merged_across_columns_fills_only_its_own() -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["email", "first_name", "last_name", "company", "city"])
    sheet.append(["a@example.com", "Ann Lee", None, "Acme", None])
    sheet.append(["b@example.com", "Bo", "Ek", None, "Oslo"])
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("D2:E2")
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = _rows_of(buffer.getvalue())
    assert rows[1] == ["a@example.com", "Ann Lee", "", "Acme"]  # nothing copied rightwards


def test_east_asian_date_formats_read_as_dates() -> None:
    """Built-in formats 27-36 and 50-58 are dates in Chinese, Japanese and Korean Excel
    (yyyy"年"m"月"d"日"); openpyxl reads them as numbers."""
    from tests.imports_helpers import with_part_changed, workbook_with

    data = workbook_with(
        [["email", "joined", "at"]],
        '<row r="2"><c r="A2" t="inlineStr"><is><t>a@example.com</t></is></c>'
        '<c r="B2" s="1"><v>45000</v></c><c r="C2" s="2"><v>0.5</v></c></row></sheetData>',
    )
    data = with_part_changed(
        data,
        "xl/styles.xml",
        lambda part: part.replace(
            b"</cellXfs>", b'<xf numFmtId="31" applyNumberFormat="1"/><xf numFmtId="32"/></cellXfs>'
        ),
    )
    assert _rows_of(data)[1] == ["a@example.com", "2023-03-15", "12:00:00"]


def test_a_number_beyond_the_calendar_in_a_date_format_keeps_its_digits() -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["email", "birthday"])
    workbook.active.append(["a@example.com", 20230315])
    workbook.active["B2"].number_format = "yyyymmdd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _rows_of(buffer.getvalue())[1] == ["a@example.com", "20230315"]  # not "#VALUE!"


def test_sheet_choice_header_search_and_the_sheet_option() -> None:
    """The sheet open when saved comes first; blank rows above a header (a logo) do not
    count against the search; a named sheet without a header says so by name."""
    import openpyxl

    from chalicelib.imports.textfiles import UnreadableFileError

    workbook = openpyxl.Workbook()
    older = workbook.active
    older.title = "2023"
    older.append(["email"])
    older.append(["old@example.com"])
    newer = workbook.create_sheet("2024 ")
    for _ in range(25):
        newer.append([None])
    newer.append(["email"])
    newer.append(["new@example.com"])
    notes = workbook.create_sheet("Notes")
    notes.append(["Imported from the shop"])
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    assert _rows_of(data)[-1] == ["new@example.com"]
    assert _rows_of(data, "2024")[-1] == ["new@example.com"]  # the trailing space forgiven
    with pytest.raises(UnreadableFileError, match="The sheet 'Notes' has no header row"):
        _rows_of(data, "Notes")
