"""The real-world import cases (C01–C11, C23), each through an S3 drop and the worker."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CASES, User
from tests.imports_helpers import by_email, contacts_of, import_case


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory("Imports")


def test_c01_bom_and_crlf(ana: User, directory: str) -> None:
    job = import_case(ana, directory, "C01_bom_crlf.csv")
    assert (job["status"], job["created"], job["failed"]) == ("completed", 2, 0)
    contacts = by_email(contacts_of(ana, directory))
    zoe = contacts["zoe.martin@example.com"]
    assert zoe["first_name"] == "Zoë"
    assert zoe["phone"] == "+33612345678"
    assert all("\r" not in str(v) for c in contacts.values() for v in c.values())
    assert all("\ufeff" not in k for c in contacts.values() for k in c["extra"])


def test_c02_semicolons_and_windows_1252(ana: User, directory: str) -> None:
    job = import_case(ana, directory, "C02_semicolon_cp1252.csv")
    assert (job["status"], job["created"]) == ("completed", 2)
    contacts = by_email(contacts_of(ana, directory))
    zoe = contacts["zoe.lefevre@example.fr"]
    assert (zoe["first_name"], zoe["last_name"]) == ("Zoë", "Lefèvre")
    assert zoe["extra"] == {"company": "Café Müller, Söhne", "score": "12,5"}
    sean = contacts["sean.obrien@example.ie"]
    assert (sean["first_name"], sean["last_name"]) == ("Seán", "O’Brien")
    assert sean["extra"]["company"] == "Ó Briain € Ltd"


def test_c03_quoted_line_breaks(ana: User, directory: str) -> None:
    job = import_case(ana, directory, "C03_quoted_newlines.csv")
    assert (job["total_rows"], job["created"]) == (2, 2)
    contacts = by_email(contacts_of(ana, directory))
    assert contacts["ana.souza@example.com"]["extra"]["notes"] == (
        "Met at the Lisbon expo.\nPrefers WhatsApp"
    )
    kim = contacts["kim.oneil@example.net"]
    assert kim["first_name"] == 'Kimberly "Kim"'
    assert kim["extra"]["notes"] == "Line one\nLine two, with a comma"


def test_c05_blank_and_separator_rows_are_skipped_silently(ana: User, directory: str) -> None:
    job = import_case(ana, directory, "C05_trailing_blank_rows.csv")
    assert (job["status"], job["created"], job["failed"], job["errors"]) == (
        "completed",
        2,
        0,
        [],
    )
    assert len(contacts_of(ana, directory)) == 2


def test_c06_duplicates_merge_and_a_second_run_changes_nothing(ana: User, directory: str) -> None:
    seed = json.loads((CASES / "C06_seed_existing_contacts.json").read_text())["contacts"][0]
    existing = ana.new_contact(directory, **seed)
    job = import_case(ana, directory, "C06_duplicates.csv")
    assert (job["created"], job["updated"], job["skipped"], job["failed"]) == (1, 1, 2, 0)
    contacts = by_email(contacts_of(ana, directory))
    assert set(contacts) == {"ana.lima@example.com", "bruno.costa@example.com"}
    ana_lima = contacts["ana.lima@example.com"]
    assert ana_lima["id"] == existing["id"]
    assert ana_lima["phone"] == "+351912345678"
    assert ana_lima["extra"] == {"source": "web-form"}
    # The same file again (a new object): nothing changes.
    from tests.imports_helpers import drop_file, finish_imports

    drop_file(directory, "again.csv", (CASES / "C06_duplicates.csv").read_bytes())
    second = finish_imports(ana, directory)[0]
    assert (second["created"], second["updated"], second["skipped"]) == (0, 0, 4)
    assert contacts_of(ana, directory) == list(contacts.values())


def test_c08_typed_cells_become_text_as_excel_shows(ana: User, directory: str) -> None:
    job = import_case(ana, directory, "C08_xlsx_typed_cells.xlsx")
    assert (job["status"], job["created"]) == ("completed", 3), job
    contacts = by_email(contacts_of(ana, directory))
    amelia = contacts["amelia.jones@example.co.uk"]
    assert amelia["phone"] in ("447700900123", "+447700900123")
    assert amelia["extra"]["birthday"] == "1990-04-03"
    assert amelia["extra"]["member_since"] == "2023-03-15"
    assert amelia["extra"]["postcode"] == "01234"
    lea = contacts["lea.dubois@example.fr"]
    assert lea["phone"] in ("33612345678", "+33612345678")
    assert lea["extra"]["postcode"] == "75001"
    oliver = contacts["oliver.smith@example.co.uk"]
    assert oliver["extra"]["postcode"] == "02134"
    for contact in contacts.values():
        for value in [contact["phone"], *contact["extra"].values()]:
            assert isinstance(value, str)
            assert not value.endswith(".0") and "e+" not in value


def test_c09_wrong_dimension_and_inline_strings(ana: User, directory: str) -> None:
    job = import_case(ana, directory, "C09_xlsx_bad_dimension.xlsx")
    assert (job["status"], job["created"]) == ("completed", 4), job


def test_c11_picks_the_contacts_sheet_skips_title_fills_merged(ana: User, directory: str) -> None:
    job = import_case(ana, directory, "C11_xlsx_sheets_merged.xlsx")
    assert (job["status"], job["created"], job["sheet"]) == ("completed", 3, "Contacts"), job
    contacts = by_email(contacts_of(ana, directory))
    assert "old.record@example.cz" not in contacts
    companies = {c["first_name"]: c["extra"].get("company") for c in contacts.values()}
    assert companies == {"Jana": "Acme GmbH", "Petr": "Acme GmbH", "Eva": "Beta s.r.o."}
