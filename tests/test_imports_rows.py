"""A file row to contact fields: which cell goes where."""

from __future__ import annotations


def _parse(header: list[str], cells: list[str]) -> dict[str, object]:
    from chalicelib.imports.headers import map_columns
    from chalicelib.imports.rows import parse_row

    row = parse_row(2, cells, map_columns(header))
    assert not row.errors, row.errors
    return row.values


def test_can_keep_a_second_name_column_when_first_and_last_name_columns_exist() -> None:
    # "Name" twice beside "First name": neither is the contact's name, and
    # the one with a value must not be lost under the other's label.
    values = _parse(
        ["Name", "Name", "First name", "Email"], ["", "Ana Lima", "Ana", "ana@example.com"]
    )
    assert values["first_name"] == "Ana"
    assert values["extra"] == {"Name": "Ana Lima"}
    values = _parse(
        ["Name", "Name", "First name", "Email"], ["Ana L.", "", "Ana", "ana@example.com"]
    )
    assert values["extra"] == {"Name (2)": "Ana L."}


def test_can_take_a_phone_from_the_next_phone_column_when_the_first_is_empty() -> None:
    header = ["E-mail Address", "Business Phone", "Home Phone", "Mobile Phone"]
    values = _parse(header, ["bo@example.com", "", "", "+44 7911 123456"])
    assert values["phone"] == "+447911123456"
    assert values["extra"] == {"Mobile Phone": "+44 7911 123456"}
    values = _parse(header, ["bo@example.com", "+44 20 7946 0018", "", "+44 7911 123456"])
    assert values["phone"] == "+442079460018"


def test_can_store_cells_trimmed_with_one_kind_of_line_break_and_no_bom() -> None:
    values = _parse(
        ["email", "first name", "notes", "city"],
        ["\ufeffcy@example.com ", " Cy ", "line one\r\nline two\rthree", "  "],
    )
    assert (values["email"], values["first_name"]) == ("cy@example.com", "Cy")
    assert values["extra"] == {"notes": "line one\nline two\nthree"}  # the blank city left out


def test_can_keep_cells_beyond_the_header_under_their_position() -> None:
    values = _parse(["email", "company"], ["di@example.com", "", "", "late value"])
    assert values["extra"] == {"column 4": "late value"}


def test_long_headers_alike_but_for_their_end_keep_both_values() -> None:
    # Google Forms questions: long, cut to 100 characters, then told apart.
    question = "Which of our services would you like to hear about in the coming months? " * 2
    header = ["Email", question + "(morning)", question + "(evening)", question + "(night)"]
    values = _parse(header, ["ann@example.com", "yes", "no", "maybe"])
    extra = values["extra"]
    assert isinstance(extra, dict)
    assert sorted(extra.values()) == ["maybe", "no", "yes"]
    assert all(len(label) <= 100 for label in extra)
    assert sorted(label[-4:] for label in extra)[:2] == [" (2)", " (3)"]
