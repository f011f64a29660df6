"""Exports: the direct download, export jobs, and files that open right everywhere."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from tests.conftest import CASES, User, run_queue
from tests.imports_helpers import by_email, contacts_of, drop_file, finish_imports

C12 = json.loads((CASES / "C12_pdf_unicode_contacts.json").read_text("utf-8"))
C14 = json.loads((CASES / "C14_injection_contacts.json").read_text("utf-8"))
TRIGGERS = tuple(C14["dangerous_leading_chars"])
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def download(
    user: User, directory: str, fmt: str, accept: str | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """GET the export as a client would, with the given Accept (or none)."""
    headers = {"Authorization": f"Bearer {user.token}"}
    if accept is not None:
        headers["Accept"] = accept
    response = user.http.client.http.request(
        "GET",
        f"/api/contacts/contacts/export?directory_id={directory}&format={fmt}",
        headers=headers,
    )
    return response.status_code, response.body, {k.lower(): v for k, v in response.headers.items()}


def fill(user: User, directory: str, contacts: list[dict[str, Any]]) -> None:
    for contact in contacts:
        user.new_contact(directory, **contact)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory("Clients")


# -- CSV ---------------------------------------------------------------------


def test_can_download_csv_with_core_then_extra_columns(ana: User, directory: str) -> None:
    fill(
        ana,
        directory,
        [
            {"email": "zoe@example.com", "first_name": "Zoë", "extra": {"company": "Acme, Inc."}},
            {
                "email": "kim@example.com",
                "first_name": 'Kimberly "Kim"',
                "phone": "+44 7700 900123",
                "extra": {"note": "line one\nline two", "zip": "01234"},
            },
        ],
    )
    status, data, headers = download(ana, directory, "csv", accept="*/*")
    assert status == 200
    assert headers["content-type"].startswith("text/csv")
    rows = csv_rows(data)
    assert rows[0] == ["first_name", "last_name", "email", "phone", "company", "note", "zip"]
    assert rows[1] == ["Zoë", "", "zoe@example.com", "", "Acme, Inc.", "", ""]
    assert rows[2][:2] == ['Kimberly "Kim"', ""]
    assert rows[2][4:] == ["", "line one\nline two", "01234"]
    # RFC 4180: CRLF between records, doubled quotes inside quoted fields.
    assert b'"Kimberly ""Kim"""' in data and data.endswith(b"\r\n")


@pytest.mark.parametrize("accept", [None, "*/*", BROWSER_ACCEPT, "application/json"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_file_arrives_intact_whatever_the_accept_header(
    ana: User, directory: str, fmt: str, accept: str | None
) -> None:
    fill(ana, directory, [{"email": "zoe@example.com", "first_name": "Zoë"}])
    status, data, headers = download(ana, directory, fmt, accept=accept)
    assert status == 200, data[:300]
    magic = {"csv": b"\xef\xbb\xbf", "xlsx": b"PK\x03\x04", "pdf": b"%PDF-"}[fmt]
    assert data.startswith(magic)
    assert "attachment" in headers["content-disposition"]


def test_filename_has_directory_name_and_date_encoded_per_rfc_6266(ana: User) -> None:
    directory = ana.new_directory('Clientes de São Paulo "VIP"')
    status, _, headers = download(ana, directory, "xlsx")
    assert status == 200
    disposition = headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Clientes de Sao Paulo _VIP_ ')
    encoded = disposition.split("filename*=UTF-8''")[1]
    name = unquote(encoded)
    assert name.startswith("Clientes de São Paulo _VIP_ 20") and name.endswith(".xlsx")
    assert disposition.isascii()


# -- C14: formula injection ----------------------------------------------------


def test_c14_csv_neutralises_every_formula_cell_headers_included(ana: User, directory: str) -> None:
    fill(ana, directory, C14["contacts"])
    status, data, _ = download(ana, directory, "csv")
    assert status == 200
    rows = csv_rows(data)
    for row in rows:
        for cell in row:
            assert not cell.startswith(TRIGGERS), cell
    header = rows[0]
    injected_key = next(key for key in C14["contacts"][0]["extra"] if key.startswith("="))
    assert "'" + injected_key in header
    mallory = next(row for row in rows if row[2] == "mallory@example.test")
    values = dict(zip(header, mallory, strict=True))
    assert values["first_name"] == "'" + C14["contacts"][0]["first_name"]
    assert values["last_name"] == "'" + C14["contacts"][0]["last_name"]
    assert values["company"] == "'-2+3"
    assert values["note"] == "'\t=1+1"
    assert values["status"] == "#N/A"  # not a formula trigger; only text in a CSV


def test_c14_xlsx_has_no_formula_or_error_cell_and_keeps_values(ana: User, directory: str) -> None:
    from openpyxl import load_workbook

    fill(ana, directory, C14["contacts"])
    status, data, _ = download(ana, directory, "xlsx")
    assert status == 200
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert cells
    assert [c.coordinate for c in cells if c.data_type in ("f", "e")] == []
    assert all(c.value is None or isinstance(c.value, str) for c in cells)
    header = [c.value for c in next(sheet.iter_rows())]
    injected_key = next(key for key in C14["contacts"][0]["extra"] if key.startswith("="))
    assert injected_key in header
    assert sheet.freeze_panes == "A2"
    assert next(sheet.iter_rows())[0].font.b
    rows = {row[2].value: row for row in sheet.iter_rows(min_row=2)}
    mallory = dict(zip(header, rows["mallory@example.test"], strict=True))
    first = mallory["first_name"]
    assert first.value == C14["contacts"][0]["first_name"]
    assert first.quotePrefix, "Excel keeps a quote-prefixed cell text when edited"
    assert mallory["status"].value == "#N/A"
    assert mallory["phone"].value == "+33612345678"


# -- C12: PDF in every script -----------------------------------------------------


def test_c12_pdf_has_every_name_readable_and_extractable(ana: User, directory: str) -> None:
    import pypdf

    fill(ana, directory, C12["contacts"])
    status, data, headers = download(ana, directory, "pdf")
    assert status == 200
    assert headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(data))
    # Raw, not normalised: shaped Arabic must read back as the letters typed.
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Clients" in text and "12 contacts" in text and "Page 1 of" in text
    assert "\x00" not in text
    for contact in C12["contacts"]:
        for field in ("first_name", "last_name"):
            # No font here draws emoji: the rest of the name is still there.
            name = "".join(c for c in contact[field] if unicodedata.category(c) != "So").strip()
            assert name in text, (field, contact[field])
        assert contact["email"] in text
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    # reportlab's standard fonts are not embedded and are Latin-1 only.
    assert not any("Helvetica" in font for font in fonts), fonts


def test_pdf_wraps_long_values_and_repeats_header_on_every_page(ana: User, directory: str) -> None:
    import pypdf

    long_email = "a.very.long.mailbox.name.that.never.ends.at.all@sub.domain.example.com"
    fill(ana, directory, [{"email": long_email, "first_name": "Long"}])
    fill(ana, directory, [{"email": f"p{i}@example.com", "first_name": f"P{i}"} for i in range(90)])
    status, data, _ = download(ana, directory, "pdf")
    assert status == 200
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "First name" in text and "Email" in text
        assert f"Page {number} of" in text
    first = reader.pages[0].extract_text()
    assert long_email not in first, "a value wider than its column must wrap"
    assert long_email in first.replace("\n", "")


def test_a_character_no_font_has_never_fails_the_pdf(ana: User, directory: str) -> None:
    fill(ana, directory, [{"email": "x@example.com", "first_name": "Ꙭ 𓀀 \U0010fffd 🚀 ok"}])
    status, data, _ = download(ana, directory, "pdf")
    assert status == 200 and data.startswith(b"%PDF-")


# -- round trips -------------------------------------------------------------------

ROUND_TRIP = [
    {"email": "zoe@example.com", "first_name": "Zoë", "last_name": "Ångström"},
    {
        "email": "kim@example.com",
        "first_name": 'Kimberly "Kim"',
        "last_name": "O'Hara, Jr.",
        "phone": "+44 7700 900123",
        "extra": {"company": "Acme; Inc.", "zip": "01234", "note": "two\nlines"},
    },
    {"email": "dmitry@example.ru", "first_name": "Дмитрий", "phone": "+7 912 345-67-89"},
    {"email": "ana@example.com", "first_name": "Ana", "extra": {"company": "Zé Lda"}},
    # Formula look-alikes come back as typed: the guard apostrophe is dropped
    # again on import, headers included; so is the sheet XML's "_" escape.
    {
        "email": "mallory@example.com",
        "first_name": '=HYPERLINK("https://x.example","y")',
        "last_name": "-Dash",
        "extra": {"=key": "@home", "code": "_x0041_B"},
    },
]


def _comparable(contacts: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        c["email"]: (c["first_name"], c["last_name"], c["phone"], c.get("extra") or {})
        for c in contacts
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_contacts(ana: User, fmt: str) -> None:
    source = ana.new_directory("Source")
    fill(ana, source, ROUND_TRIP)
    status, data, _ = download(ana, source, fmt)
    assert status == 200
    target = ana.new_directory("Copy")
    drop_file(target, f"export.{fmt}", data)
    job = finish_imports(ana, target)[0]
    assert job["status"] == "completed", job
    assert job["created"] == len(ROUND_TRIP)
    copied = _comparable(contacts_of(ana, target))
    original = _comparable(contacts_of(ana, source))
    # An extra column some contacts lack comes back empty: drop empties.
    for email, (first, last, phone, extra) in copied.items():
        copied[email] = (first, last, phone, {k: v for k, v in extra.items() if v})
    assert copied == original


# -- limits, errors, ownership -----------------------------------------------------


def test_too_large_directory_points_to_export_jobs(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import config

    fill(ana, directory, [{"email": f"c{i}@example.com"} for i in range(3)])
    monkeypatch.setenv("SYNC_EXPORT_MAX_CONTACTS", "2")
    config.settings.cache_clear()
    try:
        status, body, headers = download(ana, directory, "csv")
    finally:
        monkeypatch.delenv("SYNC_EXPORT_MAX_CONTACTS")
        config.settings.cache_clear()
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert "POST /api/contacts/exports" in problem["detail"]
    assert problem["export_jobs_url"] == "/api/contacts/exports"


@pytest.mark.parametrize(
    ("query", "field"),
    [("format=csv", "directory_id"), ("directory_id={d}&format=docx", "format")],
)
def test_error_on_bad_export_query_names_the_field(
    ana: User, directory: str, query: str, field: str
) -> None:
    status, problem, _ = ana.get("/api/contacts/contacts/export?" + query.format(d=directory))
    assert status == 400
    assert field in problem["errors"]


def test_another_users_directory_is_not_found(ana: User, bruno: User, directory: str) -> None:
    status, _, _ = download(bruno, directory, "csv")
    assert status == 404
    status, _, _ = bruno.post("/api/contacts/exports", {"directory_id": directory, "format": "csv"})
    assert status == 404


# -- export jobs -----------------------------------------------------------------------


def test_export_job_writes_the_file_and_links_it(ana: User, directory: str) -> None:
    import requests

    fill(ana, directory, ROUND_TRIP)
    status, job, _ = ana.post("/api/contacts/exports", {"directory_id": directory, "format": "csv"})
    assert status == 202, job
    assert job["status"] == "pending" and job["download_url"] is None
    run_queue("exports")
    status, job, _ = ana.get(f"/api/contacts/exports/{job['id']}")
    assert status == 200
    assert job["status"] == "completed", job
    assert job["row_count"] == len(ROUND_TRIP)
    query = parse_qs(urlparse(job["download_url"]).query)
    assert "attachment" in query["response-content-disposition"][0]
    response = requests.get(job["download_url"], timeout=10)
    assert response.status_code == 200
    rows = csv_rows(response.content)
    assert {row[2] for row in rows[1:]} == {c["email"] for c in ROUND_TRIP}


def test_export_job_of_a_deleted_directory_fails_with_a_reason(ana: User, directory: str) -> None:
    status, job, _ = ana.post("/api/contacts/exports", {"directory_id": directory, "format": "pdf"})
    assert status == 202
    assert ana.delete(f"/api/directory/directories/{directory}")[0] == 204
    run_queue("exports")
    _, job, _ = ana.get(f"/api/contacts/exports/{job['id']}")
    assert job["status"] == "failed"
    assert "deleted" in job["failure_reason"]


def test_dead_letter_fails_the_export_job(ana: User, directory: str) -> None:
    from chalicelib.exports.handlers import handle_dead_letter

    _, job, _ = ana.post("/api/contacts/exports", {"directory_id": directory, "format": "csv"})
    handle_dead_letter({"owner_id": ana.id, "export_id": job["id"]})
    _, job, _ = ana.get(f"/api/contacts/exports/{job['id']}")
    assert job["status"] == "failed" and job["failure_reason"]


def test_error_on_bad_export_job_body(ana: User, directory: str, bruno: User) -> None:
    status, problem, _ = ana.post("/api/contacts/exports", {"directory_id": directory})
    assert status == 400 and "format" in problem["errors"]
    status, problem, _ = ana.post(
        "/api/contacts/exports", {"directory_id": directory, "format": "odt"}
    )
    assert status == 400 and "format" in problem["errors"]
    _, job, _ = ana.post("/api/contacts/exports", {"directory_id": directory, "format": "csv"})
    assert bruno.get(f"/api/contacts/exports/{job['id']}")[0] == 404
    assert ana.get("/api/contacts/exports/not-an-id")[0] == 404


def test_redelivered_export_message_does_not_redo_a_finished_job(ana: User, directory: str) -> None:
    from chalicelib.exports.handlers import handle_export_message

    fill(ana, directory, ROUND_TRIP[:1])
    _, job, _ = ana.post("/api/contacts/exports", {"directory_id": directory, "format": "xlsx"})
    run_queue("exports")
    _, done, _ = ana.get(f"/api/contacts/exports/{job['id']}")
    handle_export_message({"owner_id": ana.id, "export_id": job["id"]})
    _, again, _ = ana.get(f"/api/contacts/exports/{job['id']}")
    assert again["finished_at"] == done["finished_at"] and again["status"] == "completed"


def test_imported_contacts_with_extra_fields_export_by_email(ana: User, directory: str) -> None:
    drop_file(directory, "people.csv", b"email,first_name,Company\r\nana@example.com,Ana,Acme\r\n")
    finish_imports(ana, directory)
    assert by_email(contacts_of(ana, directory))["ana@example.com"]["first_name"] == "Ana"
    status, data, _ = download(ana, directory, "csv")
    assert status == 200
    rows = csv_rows(data)
    header = [column.lower() for column in rows[0]]
    assert rows[1][header.index("company")] == "Acme"


# -- what a break-it pass found ------------------------------------------------------


def test_pdf_draws_arabic_marks_and_mixed_directions(ana: User, directory: str) -> None:
    import pypdf

    names = ["عليّ", "بِ", "صٖ", "محمد", "أحمد ٢٣ 45", "Ahmed أحمد Smith", "שלום (דוד)"]
    fill(
        ana,
        directory,
        [{"email": f"n{i}@example.com", "first_name": n} for i, n in enumerate(names)],
    )
    status, data, _ = download(ana, directory, "pdf")
    assert status == 200, data[:300]
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    for name in ("عليّ", "محمد", "Ahmed أحمد Smith"):
        assert name in text


def test_pdf_runs_put_right_to_left_text_in_display_order() -> None:
    from chalicelib.exports.pdf_fonts import register_fonts, runs_of

    register_fonts()
    visual = [run.text for run in runs_of("أحمد ٢٣ 45")]
    # Read right to left: the name, then ٢٣, then 45; digits keep their order.
    assert visual == ["45", " ", "٢٣", " ", "أحمد"]
    brackets = [run.text for run in runs_of("שלום (דוד)")]
    assert brackets[0] == "(" and brackets[2] == ")", "brackets mirror in right-to-left text"


def test_carriage_return_in_a_value_stays_inside_its_cell(ana: User, directory: str) -> None:
    from openpyxl import load_workbook

    payload = "Call back\r=cmd|' /C calc'!A0"
    fill(
        ana,
        directory,
        [{"email": "eve@example.com", "extra": {"notes": payload, "company": "ACME"}}],
    )
    status, data, _ = download(ana, directory, "csv")
    assert status == 200
    rows = csv_rows(data)
    assert len(rows) == 2
    values = dict(zip(rows[0], rows[1], strict=True))
    assert values["notes"] == payload and values["company"] == "ACME"
    _, data, _ = download(ana, directory, "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    header = [c.value for c in next(sheet.iter_rows())]
    row = [c.value for c in list(sheet.iter_rows())[1]]
    assert sheet.max_row == 2
    assert dict(zip(header, row, strict=True))["company"] == "ACME"


def test_pdf_cell_of_endless_text_is_cut_to_its_line_limit() -> None:
    from chalicelib.exports.pdf_fonts import register_fonts
    from chalicelib.exports.pdf_report import MAX_LINES, wrap

    register_fonts()
    for word in ("字" * 10_000, "ب" * 10_000, "x" * 10_000, "क्ष" * 3_000):
        lines = wrap(word, 120)
        assert len(lines) == MAX_LINES
        assert lines[-1].endswith("…")
    assert wrap("short", 120) == ["short"]
    assert wrap("one two three four five six seven eight nine ten", 60)[0] == "one two three"


def test_pdf_title_and_footer_fit_the_page() -> None:
    from chalicelib.exports.pdf_fonts import BOLD, register_fonts, text_width
    from chalicelib.exports.pdf_report import fitted

    register_fonts()
    name = "Leads from the Frankfurt trade show 2026 – booth visitors, follow-up list (EMEA) " * 3
    title = fitted(name, 16, 500, base=BOLD)
    assert title.endswith("…") and text_width(title, 16, BOLD) <= 500
    assert fitted("Clients", 16, 500) == "Clients"


def test_tabs_and_control_characters_print_as_spaces_or_nothing() -> None:
    from chalicelib.exports.pdf_report import printable

    assert printable("line\ttabbed\x00x\r\nnext") == "line tabbedx\nnext"


def test_filename_in_another_script_keeps_a_readable_ascii_fallback() -> None:
    from chalicelib.exports.files import content_disposition

    header = content_disposition("Клиенты 2026-12-03.xlsx")
    assert header.startswith('attachment; filename="contacts 2026-12-03.xlsx"')


def test_xlsx_keeps_text_that_looks_like_an_xml_escape(ana: User, directory: str) -> None:
    import zipfile

    fill(ana, directory, [{"email": "x@example.com", "first_name": "_x0041_B"}])
    _, data, _ = download(ana, directory, "xlsx")
    archive = zipfile.ZipFile(io.BytesIO(data))
    strings = "".join(archive.read(name).decode() for name in archive.namelist())
    assert "_x005F_x0041_B" in strings  # Excel shows "_x0041_B", not "AB"


def test_error_on_an_empty_format(ana: User, directory: str) -> None:
    status, problem, _ = ana.get(f"/api/contacts/contacts/export?directory_id={directory}&format=")
    assert status == 400 and "format" in problem["errors"]


def test_xlsx_drops_characters_xml_cannot_hold_and_still_opens(ana: User, directory: str) -> None:
    import openpyxl

    ana.new_contact(
        directory,
        email="nonchar@example.com",
        first_name="Zo\ufffeë",
        extra={"note\uffff": "a\uffffb\ufffe", "ok": "c\x01d"},
    )
    status, data, _ = download(ana, directory, "xlsx")
    assert status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][4:] == ["note", "ok"]
    assert rows[1][0] == "Zoë" and rows[1][4:] == ["ab", "cd"]


def test_xlsx_of_more_columns_than_excel_holds_is_a_clear_error_and_a_failed_job(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.exports import spreadsheets

    monkeypatch.setattr(spreadsheets, "XLSX_MAX_COLUMNS", 6)  # Excel's is 16,384
    fill(ana, directory, [{"email": "a@example.com", "extra": {"k1": "1", "k2": "2", "k3": "3"}}])
    status, problem, _ = ana.get(
        f"/api/contacts/contacts/export?directory_id={directory}&format=xlsx"
    )
    assert status == 422, problem
    assert list(problem["errors"]) == ["format"] and "CSV" in problem["detail"]
    assert download(ana, directory, "csv")[0] == 200  # CSV holds any number of columns
    _, job, _ = ana.post("/api/contacts/exports", {"directory_id": directory, "format": "xlsx"})
    run_queue("exports")
    _, job, _ = ana.get(f"/api/contacts/exports/{job['id']}")
    assert job["status"] == "failed" and "7 columns" in job["failure_reason"]


def test_error_on_a_blank_directory_in_an_export_job_names_the_field(ana: User) -> None:
    status, problem, _ = ana.post("/api/contacts/exports", {"directory_id": "  ", "format": "csv"})
    assert status == 400 and list(problem["errors"]) == ["directory_id"]


def test_pdf_footer_keeps_page_numbers_whole_beside_a_right_to_left_name(ana: User) -> None:
    import pypdf

    directory = ana.new_directory("שלום مرحبا 123")
    fill(ana, directory, [{"email": "x@example.com", "first_name": "X"}])
    status, data, _ = download(ana, directory, "pdf")
    assert status == 200
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    footer = page.extract_text(extraction_mode="layout").strip().splitlines()[-1]
    # "Page 1 of " stands alone at the left, where the total is drawn after
    # it; the name is apart at the right. Drawn as one right-to-left line,
    # the name pulled "Page 1 of" into its order and the total landed after
    # the name.
    assert footer.split()[:3] == ["Page", "1", "of"], footer
    assert "·" not in footer and "  " in footer.split("of", 1)[1], footer


def test_pdf_obeys_direction_marks_and_never_draws_them() -> None:
    from chalicelib.exports.pdf_fonts import register_fonts, runs_of

    register_fonts()
    # An override reverses what follows it; an isolate keeps its text apart.
    assert [run.text for run in runs_of("abc\u202edef")] == ["abc", "fed"]
    assert [run.text for run in runs_of("x\u2067abc\u2069y")] == ["x", "abc", "y"]
    for text in ("abc\u202edef", "x\u2067abc\u2069y", "שלום \u2066abc\u2069"):
        drawn = "".join(run.text for run in runs_of(text))
        assert not set(drawn) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufffd")
