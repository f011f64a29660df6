"""A file row to contact fields: which cell goes where."""

from __future__ import annotations

from typing import Any

import pytest


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
    assert values["extra"] == {}  # the contact's phone now, not kept twice
    values = _parse(header, ["bo@example.com", "+44 20 7946 0018", "", "+44 7911 123456"])
    assert values["phone"] == "+442079460018"
    assert values["extra"] == {"Mobile Phone": "+44 7911 123456"}  # a second number kept


def test_a_later_email_column_that_fills_in_is_not_kept_twice() -> None:
    header = ["Name", "E-mail 1 - Value", "E-mail 2 - Value"]
    values = _parse(header, ["Ana Lima", "", "ana@example.com"])
    assert values["email"] == "ana@example.com"
    assert values["extra"] == {}
    values = _parse(header, ["Ana Lima", "ana@example.com", "ana@work.example.com"])
    assert values["extra"] == {"E-mail 2 - Value": "ana@work.example.com"}


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


def test_a_phone_extension_is_kept_in_extra_not_dropped() -> None:
    from chalicelib.imports.headers import map_columns
    from chalicelib.imports.rows import parse_row

    header = ["Email", "Phone"]
    row = parse_row(2, ["ann@example.com", "415-555-0136 ext. 42"], map_columns(header))
    assert row.values["phone"] == "+14155550136"
    assert row.values["extra"] == {"phone extension": "42"}
    assert row.warnings == [("phone", "Kept in extra as 'phone extension': 42.")]


def test_a_lone_name_beside_a_first_name_is_the_surname() -> None:
    values = _parse(["Vorname", "Name", "E-Mail"], ["Jürgen", "Müller", "jm@example.de"])
    assert (values["first_name"], values["last_name"]) == ("Jürgen", "Müller")


def test_a_later_email_or_phone_column_fills_in_when_the_first_is_empty() -> None:
    header = ["E-mail Address", "E-mail 2 Address", "Business Phone", "Other Phone", "Fax"]
    values = _parse(header, ["", "bo@example.com", "", "+44 20 7946 0018", "+44 20 7946 0999"])
    assert (values["email"], values["phone"]) == ("bo@example.com", "+442079460018")
    google = ["E-mail 1 - Value", "E-mail 2 - Value", "Phone 1 - Value", "Phone 2 - Value"]
    values = _parse(google, ["", "cy@example.com", "", "+1 415 555 0134"])
    assert (values["email"], values["phone"]) == ("cy@example.com", "+14155550134")


def test_localised_outlook_phone_headers_are_phones() -> None:
    from chalicelib.imports.headers import field_for

    headers = [
        "Telefon geschäftlich",
        "Téléphone bureau",
        "Tél. mobile",
        "Teléfono del trabajo",
        "Telefone comercial",
    ]
    assert [field_for(h) for h in headers] == ["phone"] * len(headers)
    assert field_for("Business Fax") is None


def _row(header: list[str], cells: list[str]) -> Any:
    from chalicelib.imports.headers import map_columns
    from chalicelib.imports.rows import parse_row

    return parse_row(2, cells, map_columns(header))


@pytest.mark.parametrize(
    ("cell", "email", "others"),
    [
        (
            "alice@example.com ::: alice.work@example.com",
            "alice@example.com",
            "alice.work@example.com",
        ),
        ("Ana Lima <ana@example.com>", "ana@example.com", None),
        ("<angle@example.com>", "angle@example.com", None),
        ("mailto:Mail.To@example.com", "mail.to@example.com", None),
        ("MAILTO:m@example.com?subject=Hi", "m@example.com", None),
        (
            "a@example.com; b@example.com, c@example.com",
            "a@example.com",
            "b@example.com, c@example.com",
        ),
        ('"Doe, Jane" <jane@example.com>', "jane@example.com", None),
    ],
)
def test_an_email_cell_holding_a_list_a_name_or_a_link_gives_its_address(
    cell: str, email: str, others: str | None
) -> None:
    row = _row(["Email", "First name"], [cell, "Ann"])
    assert not row.errors, row.errors
    assert row.values["email"] == email
    assert row.values["extra"].get("other emails") == others
    assert bool(row.warnings) == bool(others)


def test_an_invalid_email_beside_a_valid_phone_keeps_the_contact() -> None:
    row = _row(["Email", "Phone", "First name"], ["not-an-email", "+1 415 555 0135", "Ann"])
    assert not row.errors
    assert (row.values["email"], row.values["phone"]) == (None, "+14155550135")
    assert row.values["extra"] == {"invalid email": "not-an-email"}
    assert row.key == "p#+14155550135"
    ((field, message),) = row.warnings
    assert field == "email" and "found by its phone" in message
    # Without a valid phone nothing tells the contact apart: the row fails, naming email.
    row = _row(["Email", "Phone", "First name"], ["not-an-email", "call reception", "Ann"])
    assert [field for field, _ in row.errors] == ["email"]


def test_over_long_values_are_cut_with_a_warning_not_the_contact_lost() -> None:
    note = "n" * 10_001
    row = _row(["Email", "First name", "Notes"], ["ann@example.com", "A" * 201, note])
    assert not row.errors
    assert len(row.values["first_name"]) == 200
    assert row.values["extra"]["Notes"] == note[:10_000]
    assert sorted(field for field, _ in row.warnings) == ["Notes", "first_name"]
    # Extra fields over 64 KB in all: the longest go, each named.
    header = ["Email", *[f"f{n}" for n in range(8)]]
    row = _row(header, ["bo@example.com", *["x" * 9_000] * 8])
    assert not row.errors
    assert len(row.values["extra"]) == 7
    assert [message for _, message in row.warnings] == [
        "Left out: the extra fields are limited to 64 KB in all."
    ]


@pytest.mark.parametrize(
    ("full", "first", "last", "salutation"),
    [
        ("Ana Lima", "Ana", "Lima", None),
        ("Doe, Jane", "Jane", "Doe", None),
        ("Dr. John Smith", "John", "Smith", "Dr."),
        ("Mary Ann O'Neil", "Mary Ann", "O'Neil", None),
        ("Jean-Luc de la Fontaine", "Jean-Luc", "de la Fontaine", None),
        ("John Smith Jr.", "John", "Smith Jr.", None),
        ("Madonna", "Madonna", "", None),
    ],
)
def test_a_full_name_column_is_split_as_people_write_names(
    full: str, first: str, last: str, salutation: str | None
) -> None:
    row = _row(["Name", "Email"], [full, "ann@example.com"])
    assert (row.values["first_name"], row.values["last_name"]) == (first, last)
    assert row.values["extra"].get("salutation") == salutation


@pytest.mark.parametrize(
    ("header", "cells"),
    [
        (["Imię", "Nazwisko", "Adres e-mail", "Numer telefonu"], ["Ewa", "Nowak"]),
        (["Имя", "Фамилия", "Электронная почта", "Телефон"], ["Мария", "Иванова"]),
        (["名", "姓", "メールアドレス", "電話番号"], ["花子", "佐藤"]),
        (["이름", "성", "이메일", "전화번호"], ["민준", "김"]),
        (["Nome", "Cognome", "Indirizzo email", "Cellulare"], ["Anna", "Rossi"]),
        (["Voornaam", "Achternaam", "E-mailadres", "Telefoonnummer"], ["Anna", "Jansen"]),
        (["First", "Last", "Email (work)", "Phone (work)"], ["Ann", "Lee"]),
    ],
)
def test_headers_in_more_languages_name_their_fields(header: list[str], cells: list[str]) -> None:
    values = _parse(header, [*cells, "a@example.com", "+33 6 12 34 56 78"])
    assert (values["first_name"], values["last_name"]) == tuple(cells)
    assert (values["email"], values["phone"]) == ("a@example.com", "+33612345678")
    assert values["extra"] == {}


def test_a_google_list_of_phones_gives_its_first_and_keeps_the_others() -> None:
    from chalicelib.imports.headers import map_columns
    from chalicelib.imports.rows import parse_row

    header = ["Name", "E-mail 1 - Value", "Phone 1 - Value"]
    cells = ["Ann Lee", "ann@example.com", "+1 (415) 555-0101 ::: +1 415-555-0102"]
    row = parse_row(2, cells, map_columns(header))
    assert row.values["phone"] == "+14155550101"
    assert row.values["extra"] == {"other phones": "+1 415-555-0102"}
    assert ("other phones", "Kept in extra as 'other phones': +1 415-555-0102.") in row.warnings


@pytest.mark.parametrize(
    ("text", "stored", "valid", "warning"),
    [
        # A spreadsheet dropped the +: said, never assumed (41555501361 would be Swiss).
        ("33612345678", "33612345678", False, "with a + it is +33612345678"),
        ("4.15555E+10", "4.15555E+10", False, "scientific notation"),
        ("12025550123", "+12025550123", True, None),  # a US number with its trunk 1
    ],
)
def test_numbers_a_spreadsheet_mangled_are_read_or_explained(
    text: str, stored: str, valid: bool, warning: str | None
) -> None:
    from chalicelib.contacts.normalize import clean_phone

    phone = clean_phone(text, "US")
    assert phone is not None
    assert (phone.value, phone.valid) == (stored, valid)
    assert (warning is None and phone.warning is None) or (warning or "") in (phone.warning or "")


def test_a_value_a_duplicate_row_replaces_is_named_and_an_unreachable_row_is_warned() -> None:
    from chalicelib.imports.headers import map_columns
    from chalicelib.imports.rows import parse_row
    from chalicelib.imports.writer import merge_rows

    columns = map_columns(["email", "first_name", "phone"])
    first = parse_row(2, ["alice@example.com", "Alice", "+1 415 555 0134"], columns)
    later = parse_row(3, ["Alice@EXAMPLE.com", "Al", "(415) 555-0199"], columns)
    values: dict[str, Any] = {}
    merge_rows(values, [first, later])
    assert (values["first_name"], values["phone"]) == ("Al", "+14155550199")
    assert ("first_name", "Replaced 'Alice' (row 2) with 'Al'.") in later.warnings
    assert ("phone", "Replaced '+14155550134' (row 2) with '+14155550199'.") in later.warnings
    lonely = parse_row(9, ["", "Notes: generated by ShopApp", ""], columns)
    assert any("No email or valid phone" in message for _, message in lonely.warnings)


@pytest.mark.parametrize(
    ("header", "cells", "first", "last"),
    [
        (["Nome", "E-mail"], ["Ana Souza", "a@example.com"], "Ana", "Souza"),  # Brazil
        (["Nombre", "Correo"], ["Lucía Pérez", "a@example.com"], "Lucía", "Pérez"),
        (["Nom", "Courriel"], ["Jean Dupont", "a@example.com"], "Jean", "Dupont"),
        # Beside the other half of a name, each is its half.
        (["Nome", "Sobrenome", "E-mail"], ["Ana", "Souza", "a@example.com"], "Ana", "Souza"),
        (["Prénom", "Nom", "Courriel"], ["Jean", "Dupont", "a@example.com"], "Jean", "Dupont"),
    ],
)
def test_a_name_header_alone_holds_the_whole_name(
    header: list[str], cells: list[str], first: str, last: str
) -> None:
    values = _parse(header, cells)
    assert (values["first_name"], values["last_name"]) == (first, last)
