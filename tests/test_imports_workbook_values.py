"""A workbook with no ``00000``-style format is read as bare values, to the same text."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.conftest import CASES


def _typed_workbook(zero_format: str | None) -> bytes:
    """Every kind of value a cell holds, merged cells and a formula; optionally a zeros format."""
    import openpyxl

    workbook = openpyxl.Workbook()
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
    if zero_format:
        for row in range(2, 6):
            sheet.cell(row=row, column=6).number_format = zero_format
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rows(data: bytes, *, needs_formats: bool) -> list[list[str]]:
    import openpyxl

    from chalicelib.imports.workbooks import _merged_ranges, _text_rows

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = []
    for sheet in workbook.worksheets:
        sheet.reset_dimensions()
        merges = _merged_ranges(workbook, sheet)
        rows += list(_text_rows(sheet, merges, needs_formats=needs_formats))
    return rows


@pytest.mark.parametrize(
    "data",
    [
        _typed_workbook(None),
        (CASES / "C09_xlsx_bad_dimension.xlsx").read_bytes(),
        (CASES / "C11_xlsx_sheets_merged.xlsx").read_bytes(),
    ],
    ids=["typed", "C09", "C11"],
)
def test_can_read_a_workbook_without_zero_formats_as_bare_values(data: bytes) -> None:
    import openpyxl

    from chalicelib.imports.workbooks import _has_zero_formats

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    assert not _has_zero_formats(workbook)
    assert _rows(data, needs_formats=False) == _rows(data, needs_formats=True)


def test_can_read_typed_cells_as_excel_shows_them_by_either_path() -> None:
    rows = _rows(_typed_workbook(None), needs_formats=False)
    assert rows[1] == ["a@example.com", "447700900123", "2023-03-15", "1.5", "TRUE", "1234", "Red"]
    assert rows[2][:4] == ["b@example.com", "33612345678", "2023-03-15T09:30:00", "0.00000015"]
    assert rows[2][4:] == ["FALSE", "7", "Red"]  # Red: filled down from the merged G2:G3
    assert rows[3][:4] == ["c@example.com", "", "1990-04-03", "-2"]
    assert rows[4][3] == "100000000000000000000"


@pytest.mark.parametrize(
    "data",
    [_typed_workbook("00000"), (CASES / "C08_xlsx_typed_cells.xlsx").read_bytes()],
    ids=["typed-00000", "C08"],
)
def test_can_keep_leading_zeros_of_a_zeros_format(data: bytes) -> None:
    import openpyxl

    from chalicelib.imports.workbooks import _has_zero_formats

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    assert _has_zero_formats(workbook)  # so cells are read with their formats
    cells = {cell for row in _rows(data, needs_formats=True) for cell in row}
    assert "00007" in cells or "01234" in cells  # typed-00000's 7, C08's postcode
