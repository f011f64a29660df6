"""Numbers in a cell's number format read as Excel (en-US) shows them."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.imports.number_formats import formatted


@pytest.mark.parametrize(
    ("value", "code", "shown"),
    [
        (0.25, "0%", "25%"),
        (0.1234, "0.00%", "12.34%"),
        (0.125, "0.0%", "12.5%"),
        (1234.5, "$#,##0.00", "$1,234.50"),
        (-1234.5, "$#,##0.00", "-$1,234.50"),
        (1234.5, "#,##0", "1,235"),  # half away from zero, as Excel rounds
        (2.5, "0", "3"),
        (12.3, "0.00", "12.30"),
        (-0.001, "0.00", "0.00"),  # no minus on a number that shows as zero
        (0.5, "#.##", ".5"),
        (4155550134, "(###) ###-####", "(415) 555-0134"),
        (12, "000-000", "000-012"),
        (1234.5, "[$€-407] #,##0.00", "€ 1,234.50"),
        (1234.5, '#,##0.00 "€"', "1,234.50 €"),
        (1234567, '0.0,,"M"', "1.2M"),
        # Built-in currency formats 7 and 8: a negative section in brackets.
        (1234.5, '"$"#,##0.00_);("$"#,##0.00)', "$1,234.50"),
        (-1234.5, '"$"#,##0.00_);[Red]("$"#,##0.00)', "($1,234.50)"),
        (0, '#,##0.00;(#,##0.00);"-"', "-"),
        (-3, "[Red]0;[Blue]-0", "-3"),
        # Escaped characters (LibreOffice writes every literal so; Excel's "Special"
        # formats too) are shown once.
        (123456789, "00000\\-0000", "12345-6789"),
        (123456789, "000\\-00\\-0000", "123-45-6789"),
        (99.5, "\\$0.00", "$99.50"),
        (-12, "0;\\(0\\)", "(12)"),
        (501, "\\0\\0000", "00501"),
        (33612345678, "\\+00\\ 0\\ 00\\ 00\\ 00\\ 00", "+33 6 12 34 56 78"),
        # Accounting (German Excel): fill and spacing are layout; the text section is unused.
        (1234.5, '_-* #,##0.00\\ €_-;-* #,##0.00\\ €_-;_-* "-"??\\ €_-;_-@_-', "1,234.50 €"),
        # No digit before the point: the whole number still shows.
        (0.123, ".00", ".12"),
        (1234.5, "$.00", "$1234.50"),
    ],
)
def test_can_show_a_number_as_excel_does(value: float, code: str, shown: str) -> None:
    assert formatted(value, code) == shown


@pytest.mark.parametrize(
    "code",
    ["0.00E+00", "# ?/?", "@", "[<10]0;0", "yyyy-mm-dd", '"N/A"', "0.0.0", '"open'],
)
def test_formats_not_read_here_give_way_to_the_plain_number(code: str) -> None:
    from chalicelib.imports.cell_text import value_text

    assert formatted(1234.5, code) is None
    assert value_text(1234.5, code) == "1234.5"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (dt.timedelta(hours=27, minutes=5), "27:05:00"),  # [h]:mm:ss, not "1 day, 3:05:00"
        (-dt.timedelta(minutes=90), "-1:30:00"),
        # Excel holds 15 significant digits: a double's further ones were never typed.
        (12345678901234567890.0, "12345678901234600000"),
        (0.1 + 0.2, "0.3"),
        (1.5e-07, "0.00000015"),
        (4155550134.0, "4155550134"),
    ],
)
def test_values_read_as_excel_shows_them(value: object, shown: str) -> None:
    from chalicelib.imports.cell_text import value_text

    assert value_text(value) == shown


@pytest.mark.parametrize(
    ("value", "code", "shown"),
    [
        (-5, "00000", "-00005"),
        (2134.6, "00000", "02135"),  # a whole number, rounded
        (2.5, "0", "3"),
        (1234, "00000", "01234"),
        (dt.datetime(2023, 3, 15, 12), "dd/mm/yyyy", "2023-03-15"),  # a date format: no time
        (dt.datetime(2023, 3, 15, 14, 57, 46, 667000), "m/d/yy h:mm", "2023-03-15T14:57:47"),
        (dt.time(9, 29, 59, 971000), "h:mm", "09:30:00"),  # to the second, not .971
        (dt.datetime(2023, 3, 15, 9, 30), '[$-409]mmmm d, yyyy "at" h:mm', "2023-03-15T09:30:00"),
    ],
)
def test_cells_show_as_their_format_shows_them(value: object, code: str, shown: str) -> None:
    from chalicelib.imports.cell_text import value_text

    assert value_text(value, code) == shown
