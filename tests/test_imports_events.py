"""S3 events (C19), idempotency, unreadable files, big-file continuation, DLQ, C23."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any
from xml.sax.saxutils import escape

import pytest
import requests

from tests.conftest import CASES, User, run_queue
from tests.imports_helpers import (
    by_email,
    contacts_of,
    drop_file,
    finish_imports,
    imports_queue,
    workbook_with,
)

C19_EVENT = json.loads((CASES / "C19_s3_event_encoded_keys.json").read_text())
C19_KEYS = json.loads((CASES / "C19_expected_keys.json").read_text())


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory("Drops")


def test_c19_keys_are_decoded_exactly_once() -> None:
    from chalicelib.imports.handlers import s3_objects

    keys = [key for _, key, _, _ in s3_objects(C19_EVENT)]
    assert keys == C19_KEYS["decoded_keys"]
    assert C19_KEYS["wrong_if_only_plus_replaced"] not in keys


def test_c19_every_encoded_object_is_found_and_imported(ana: User, directory: str) -> None:
    from chalicelib.aws import client
    from chalicelib.config import settings

    names = [key.rsplit("/", 1)[1] for key in C19_KEYS["decoded_keys"]]
    for n, name in enumerate(names):
        drop_file(directory, name, f"email\nperson{n}@example.com\n".encode())
    jobs = finish_imports(ana, directory)
    assert sorted(j["filename"] for j in jobs) == sorted(names)
    assert all(j["status"] == "completed" for j in jobs), jobs
    assert len(contacts_of(ana, directory)) == 3
    # And the same through a hand-made event with the encoded keys of C19.
    bucket = settings().files_bucket
    event = json.loads(json.dumps(C19_EVENT))
    for record in event["Records"]:
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["object"]["key"] = record["s3"]["object"]["key"].replace(
            "uploads/t-42/", f"imports/{directory}/"
        )
    client("sqs").send_message(
        QueueUrl=client("sqs").get_queue_url(QueueName=settings().queue_name("imports"))[
            "QueueUrl"
        ],
        MessageBody=json.dumps(event),
    )
    jobs = finish_imports(ana, directory)
    assert len(jobs) == 6 and all(j["status"] == "completed" for j in jobs), jobs


def test_s3_test_event_is_skipped(ana: User) -> None:
    from chalicelib.imports.handlers import jobs_of

    assert jobs_of({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}) == []


def test_the_same_event_twice_imports_once(ana: User, directory: str) -> None:
    from chalicelib.imports.handlers import handle_import_message

    drop_file(directory, "list.csv", b"email,name\nann@example.com,Ann Lee\n")

    sqs, url = imports_queue()
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    event = json.loads(message["Body"])
    handle_import_message(event, lambda: 900_000)
    handle_import_message(event, lambda: 900_000)  # redelivered
    jobs = finish_imports(ana, directory)
    assert len(jobs) == 1
    assert (jobs[0]["created"], jobs[0]["status"]) == (1, "completed")
    (contact,) = contacts_of(ana, directory)
    assert (contact["first_name"], contact["last_name"]) == ("Ann", "Lee")


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)
    return buffer.getvalue()


def protected_workbook() -> bytes:
    """What Excel saves with a password: a compound file holding an EncryptedPackage stream."""
    directory_entry = "EncryptedPackage".encode("utf-16-le").ljust(64, b"\x00")
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000 + directory_entry + b"\x00" * 64


def strict_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"><sheets/></workbook>',
        )
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.csv", b"", "empty"),
        ("binary.csv", bytes(range(256)) * 10, "not a text file"),
        ("report.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        ("locked.xlsx", protected_workbook(), "protected with a password"),
        ("strict.xlsx", strict_workbook(), "Strict Open XML"),
        ("bomb.xlsx", zip_bomb(), "zip bomb"),
        ("notes.zip", b"PK\x03\x04" + b"\x00" * 100, "damaged"),
        ("names.csv", b"first_name,last_name\nAna,Lima\n", "email or phone"),
        ("header.csv", b"email,first_name\n", "no contacts"),
        (
            "export.xls",
            b"\xef\xbb\xbf<html><body><table><tr><td>Email</td></tr></table></body></html>",
            "web page",
        ),
        ("book.xml", b'<?xml version="1.0"?>\n<Workbook/>', "Excel 2003 XML"),
        ("contacts.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana\r\nEND:VCARD\r\n", "vCard"),
    ],
)
def test_unreadable_files_fail_with_a_reason(
    ana: User, directory: str, name: str, data: bytes, reason: str
) -> None:
    drop_file(directory, name, data)
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "failed", job
    assert reason in job["failure_reason"], job["failure_reason"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("email\tfirst_name\ttown\nzoe@example.com\tZoë\tSão Paulo\n", "utf-16"),
        ("email|first_name|town\nzoe@example.com|Zoë|São Paulo\n", "utf-8"),
        ("email;first_name;town\r\nzoe@example.com;Zoë;São Paulo\r\n", "cp1252"),
        ("email,first_name,town\nzoe@example.com,Zoë,São Paulo\n", "utf-16-le"),
    ],
)
def test_encodings_and_delimiters(ana: User, directory: str, data: str, encoding: str) -> None:
    drop_file(directory, "list.csv", data.encode(encoding))
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "completed", job
    (contact,) = contacts_of(ana, directory)
    assert (contact["first_name"], contact["extra"]) == ("Zoë", {"town": "São Paulo"})


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (
            "Email;Имя;Фамилия\nm@example.ru;Мария;Иванова\na@example.ru;Александр;Петров\n",
            "cp1251",
        ),
        ("Email,名前,姓\nh@example.jp,花子,佐藤\nt@example.jp,太郎,山田\n", "cp932"),
        ("Email,名字,姓\nw@example.cn,小明,王\nl@example.cn,华,李\n", "gb18030"),
        ("Email,이름,성\nm@example.kr,민준,김\ns@example.kr,서연,이\n", "cp949"),
        ("Email;Όνομα;Επώνυμο\nm@example.gr;Μαρία;Παπαδοπούλου\n", "cp1253"),
        # Western text stays Windows-1252, however few its accents.
        (
            "Email;Ville;Remarque\ne@example.fr;Besançon;Éloïse\nl@example.fr;Noël;l’Été — 12 €\n",
            "cp1252",
        ),
    ],
)
def test_other_scripts_legacy_code_pages_are_read_right(
    ana: User, directory: str, text: str, encoding: str
) -> None:
    """Excel's "CSV" on a Russian, Japanese, Chinese, Korean or Greek Windows, not mojibake."""
    drop_file(directory, "legacy.csv", text.encode(encoding))
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "completed", job
    rows = [line.split(text[5]) for line in text.splitlines()[1:]]
    got = {
        c["email"]: sorted(v for v in (c["first_name"], c["last_name"], *c["extra"].values()) if v)
        for c in contacts_of(ana, directory)
    }
    assert got == {row[0]: sorted(row[1:]) for row in rows}


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (
            "Name,Given Name,Family Name,E-mail 1 - Value,Phone 1 - Value",  # Google
            "Zoe Martin,Zoe,Martin,zoe@example.com,+33 6 12 34 56 78",
        ),
        (
            "First Name,Last Name,E-mail Address,Mobile Phone",  # Outlook
            "Zoe,Martin,zoe@example.com,+33 6 12 34 56 78",
        ),
        (
            "Email Address,First Name,Last Name,Phone Number",  # Mailchimp
            "zoe@example.com,Zoe,Martin,+33 6 12 34 56 78",
        ),
        (
            "First Name,Last Name,Email,Phone Number",  # HubSpot
            "Zoe,Martin,zoe@example.com,+33 6 12 34 56 78",
        ),
        (
            "First Name,Last Name,Email Address,Company",  # LinkedIn
            "Zoe,Martin,zoe@example.com,Acme",
        ),
        (
            "Prénom;Nom;Adresse e-mail;Téléphone portable",
            "Zoe;Martin;zoe@example.com;+33 6 12 34 56 78",
        ),
        ("Vorname;Nachname;E-Mail-Adresse;Telefon", "Zoe;Martin;zoe@example.com;+33 6 12 34 56 78"),
        (
            "Nombre,Apellidos,Correo electrónico,Teléfono",
            "Zoe,Martin,zoe@example.com,+33 6 12 34 56 78",
        ),
        ("Nome,Sobrenome,E-mail,Celular", "Zoe,Martin,zoe@example.com,+33 6 12 34 56 78"),
        ("  EMAIL ,first-name,LAST_NAME", "zoe@example.com,Zoe,Martin"),
    ],
)
def test_header_aliases_of_real_exports(ana: User, directory: str, header: str, row: str) -> None:
    drop_file(directory, "export.csv", f"{header}\n{row}\n".encode())
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "completed", job
    (contact,) = contacts_of(ana, directory)
    assert (contact["first_name"], contact["last_name"], contact["email"]) == (
        "Zoe",
        "Martin",
        "zoe@example.com",
    )


def test_bad_rows_are_reported_and_good_rows_imported(ana: User, directory: str) -> None:

    data = b"email,first_name,phone\nok@example.com,Ok,\nnot-an-email,Bad,\n,,call me\n"
    drop_file(directory, "mixed.csv", data)
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"], job["failed"]) == ("completed_with_errors", 2, 1)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "email")]
    report = requests.get(job["report_url"], timeout=10)
    assert report.status_code == 200
    text = report.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "row,outcome,field,message"
    assert "3,failed,email," in text
    assert "4,warning,phone," in text


def test_rows_without_email_merge_by_phone_and_reimport_creates_nothing(
    ana: User, directory: str
) -> None:
    data = (
        b"first_name,phone,email\n"
        b"Reception,+1 415 555 0134,\n"
        b"Front desk,(415) 555-0134,\n"  # the same number, written another way
        b"Lobby,call the lobby,\n"  # an invalid phone: found again only by the whole row
        b"Desk,+1 415 555 0134,desk@example.com\n"  # an email: its own contact
    )
    drop_file(directory, "phones.csv", data)
    (job,) = finish_imports(ana, directory)
    assert (job["created"], job["skipped"]) == (3, 1), job
    report = requests.get(job["report_url"], timeout=10).content.decode("utf-8-sig")
    assert '3,merged,phone,"No email, same phone as row 2; merged."' in report
    by_name = {c["first_name"]: c for c in contacts_of(ana, directory)}
    assert set(by_name) == {"Front desk", "Lobby", "Desk"}  # the later name won
    assert by_name["Front desk"]["phone"] == "+14155550134"
    # The same file again, uploaded anew: everything is found, nothing created
    # or changed (rows 2 and 3 change the contact and change it back).
    drop_file(directory, "phones-again.csv", data)
    job = finish_imports(ana, directory)[0]
    assert (job["status"], job["created"], job["updated"]) == ("completed", 0, 0), job
    assert len(contacts_of(ana, directory)) == 3


def test_contacts_with_no_email_or_valid_phone_are_found_again_by_their_whole_row(
    ana: User, directory: str
) -> None:
    """A LinkedIn export (most connections have no email) imported twice creates nothing;
    two people who only share a name stay two; an identical line twice is one contact."""
    data = (
        b"First Name,Last Name,Email Address,Company,URL\n"
        b"Lee,Wong,,Acme,https://www.linkedin.com/in/lee-wong-1\n"
        b"Lee,Wong,,Globex,https://www.linkedin.com/in/lee-wong-2\n"
        b"Lee,Wong,,Globex,https://www.linkedin.com/in/lee-wong-2\n"
        b"Mia,Ode,mia@example.com,Initech,https://www.linkedin.com/in/mia\n"
    )
    drop_file(directory, "Connections.csv", data)
    (job,) = finish_imports(ana, directory)
    assert (job["created"], job["skipped"], job["failed"]) == (3, 1, 0), job
    report = requests.get(job["report_url"], timeout=10).content.decode("utf-8-sig")
    assert "4,merged,,Same values as row 3; merged." in report
    drop_file(directory, "Connections (1).csv", data)
    again = finish_imports(ana, directory)[0]
    assert (again["created"], again["updated"], again["skipped"]) == (0, 0, 4), again
    companies = sorted(c["extra"]["Company"] for c in contacts_of(ana, directory))
    assert companies == ["Acme", "Globex", "Initech"]


def test_the_same_email_in_two_chunks_is_one_contact_counted_once(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.imports import pipeline

    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 3)
    data = b"email,first_name\na@example.com,A\nb@example.com,B\nc@example.com,C\n"
    data += b"A@example.com,Ann\nd@example.com,D\n"
    drop_file(directory, "list.csv", data)
    (job,) = finish_imports(ana, directory)
    counts = (job["total_rows"], job["created"], job["updated"], job["skipped"])
    assert counts == (5, 4, 0, 1), job
    report = requests.get(job["report_url"], timeout=10).content.decode("utf-8-sig")
    assert "5,merged,email,Same email as an earlier row; merged." in report
    assert by_email(contacts_of(ana, directory))["a@example.com"]["first_name"] == "Ann"


def test_a_big_file_continues_in_new_messages(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.imports import pipeline

    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 10)
    # Every run has "too little time" left after its first chunk.
    monkeypatch.setattr(pipeline, "STOP_WHEN_MS_LEFT", 10**12)
    rows = "".join(f"p{n}@example.com,P{n}\n" for n in range(35))
    drop_file(directory, "big.csv", ("email,first_name\n" + rows).encode())
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["total_rows"], job["created"]) == ("completed", 35, 35), job
    assert len(contacts_of(ana, directory)) == 35


def test_a_file_replaced_between_runs_is_never_resumed_mid_way(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint counts rows of the first file: the second gets its own job."""
    from chalicelib.imports import pipeline

    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 10)
    monkeypatch.setattr(pipeline, "STOP_WHEN_MS_LEFT", 10**12)  # one chunk a run
    run_queue("imports")  # the bucket's s3:TestEvent, so the next batch is the drop's
    first = "".join(f"old{n}@example.com\n" for n in range(25))
    drop_file(directory, "list.csv", ("email\n" + first).encode())
    run_queue("imports", max_batches=1)  # the first chunk, then a continuation is queued
    second = "".join(f"new{n}@example.com\n" for n in range(15))
    drop_file(directory, "list.csv", ("email\n" + second).encode())
    newest, oldest = finish_imports(ana, directory)
    assert oldest["status"] == "failed" and oldest["created"] == 10, oldest
    assert "replaced while it was being imported" in oldest["failure_reason"]
    assert (newest["status"], newest["created"]) == ("completed", 15), newest
    emails = {c["email"] for c in contacts_of(ana, directory)}
    assert emails == {f"old{n}@example.com" for n in range(10)} | {
        f"new{n}@example.com" for n in range(15)
    }


def test_a_file_deleted_before_it_is_read_fails_its_job_at_once(ana: User, directory: str) -> None:
    from chalicelib.aws import client
    from chalicelib.config import settings

    drop_file(directory, "gone.csv", b"email\ngone@example.com\n")
    client("s3").delete_object(Bucket=settings().files_bucket, Key=f"imports/{directory}/gone.csv")
    (job,) = finish_imports(ana, directory)
    sqs, url = imports_queue()
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # Handled and deleted, not left to be retried towards the dead-letter queue.
    assert left["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert job["status"] == "failed"
    assert "deleted from the bucket" in job["failure_reason"]


@pytest.mark.parametrize("stop_after", ["writes", "progress"])
def test_a_run_that_stops_mid_chunk_counts_every_contact_once(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch, stop_after: str
) -> None:
    """A Lambda run killed after a chunk's writes (or after its counts) loses no count."""
    from chalicelib.imports import pipeline

    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 10)
    save = pipeline._save_progress
    stops = []

    def stopping(job: Any, *args: Any) -> None:
        if stop_after == "progress":
            save(job, *args)
        if job.rows_done >= 10 and not stops:  # the second chunk, once
            stops.append(job.rows_done)
            raise RuntimeError("the run was killed")
        if stop_after == "writes":
            save(job, *args)

    monkeypatch.setattr(pipeline, "_save_progress", stopping)
    rows = "".join(f"p{n}@example.com,P{n}\n" for n in range(25))
    drop_file(directory, "big.csv", ("email,first_name\n" + rows).encode())
    sqs, url = imports_queue()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    (job,) = finish_imports(ana, directory)
    assert stops, "the run was never stopped"
    assert len(contacts_of(ana, directory)) == 25
    assert ana.get(f"/api/directory/directories/{directory}")[1]["contact_count"] == 25
    if stop_after == "writes":
        # The chunk ran again and knew its own contacts: counted once, as created.
        assert (job["status"], job["created"], job["updated"]) == ("completed", 25, 0), job
    else:
        # Its counts were saved with its checkpoint: the next run went on after it.
        assert (job["status"], job["created"], job["total_rows"]) == ("completed", 25, 25), job


def test_dead_letters_fail_the_job(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.imports import pipeline

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("storage is down")

    monkeypatch.setattr(pipeline, "_import_rows", broken)
    drop_file(directory, "list.csv", b"email\nz@example.com\n")

    sqs, url = imports_queue()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    receives = 0
    while run_queue("imports", max_batches=1):  # each receive fails; SQS counts them
        receives += 1
    assert receives >= 5  # maxReceiveCount, then SQS moves the message to the DLQ
    assert run_queue("imports-dlq") == 1
    _status, page, _ = ana.get(f"/api/contacts/imports?directory={directory}")
    (job,) = page["results"]
    assert job["status"] == "failed"
    assert "repeated errors" in job["failure_reason"]


def test_a_redelivered_message_cannot_run_a_job_twice_at_once(ana: User, directory: str) -> None:
    from chalicelib.imports import pipeline
    from chalicelib.imports.jobs import get_job

    drop_file(directory, "list.csv", b"email\nlease@example.com\n")
    (job,) = finish_imports(ana, directory)
    record = get_job(ana.id, job["id"])
    record.update(actions=[type(record).status.set("processing")])
    pipeline._take_lease(record, 60_000)  # a run is going on
    with pytest.raises(pipeline.JobBusyError):
        pipeline.run_import(record, lambda: 60_000)


def test_two_imports_into_one_directory_take_turns_and_count_each_contact_once(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file uploaded twice at once (a double click): while one import writes,
    the other waits in a delayed message; it then finds every contact there."""
    import threading

    from chalicelib.imports import pipeline
    from chalicelib.imports.handlers import jobs_of
    from chalicelib.imports.writer import ChunkWriter

    monkeypatch.setattr(pipeline, "DIRECTORY_BUSY_DELAY_SECONDS", 0)
    run_queue("imports")  # the bucket's s3:TestEvent
    data = b"email\n" + b"".join(b"p%d@example.com\n" % n for n in range(30))
    drop_file(directory, "list.csv", data)
    drop_file(directory, "list (1).csv", data)

    sqs, url = imports_queue()
    events = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    first, second = (jobs_of(event)[0] for event in events)
    writing, may_finish = threading.Event(), threading.Event()
    write = ChunkWriter.write

    def slow_write(self: ChunkWriter, rows: Any, tag: Any = None) -> Any:
        writing.set()
        may_finish.wait(10)
        return write(self, rows, tag)

    monkeypatch.setattr(ChunkWriter, "write", slow_write)
    runner = threading.Thread(target=pipeline.run_import, args=(first, lambda: 900_000))
    runner.start()
    assert writing.wait(10)
    pipeline.run_import(second, lambda: 900_000)  # the directory is taken: it waits
    second.refresh()
    assert (second.status, second.rows_done) == ("pending", 0)
    may_finish.set()
    runner.join(10)
    finish_imports(ana, directory)  # the delayed continuation runs the second import
    jobs = {
        j["id"]: j for j in ana.get(f"/api/contacts/imports?directory={directory}")[1]["results"]
    }
    assert (jobs[first.import_id]["created"], jobs[second.import_id]["created"]) == (30, 0)
    assert jobs[second.import_id]["status"] == "completed"
    assert ana.get(f"/api/directory/directories/{directory}")[1]["contact_count"] == 30


def test_an_import_whose_directory_is_deleted_before_it_starts_fails_saying_so(
    ana: User, directory: str
) -> None:
    from chalicelib.directories.models import DirectoryRecord
    from chalicelib.imports import pipeline
    from chalicelib.imports.handlers import jobs_of

    run_queue("imports")  # the bucket's s3:TestEvent
    drop_file(directory, "late.csv", b"email\nlate@example.com\n")
    sqs, url = imports_queue()
    (job,) = jobs_of(json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]))
    DirectoryRecord(ana.id, directory).delete()  # gone after the event, before the run
    pipeline.run_import(job, lambda: 900_000)
    job.refresh()
    assert job.status == "failed" and "deleted" in (job.failure_reason or ""), job.failure_reason
    assert DirectoryRecord.count(ana.id) == 0  # the lease did not bring it back


@pytest.mark.parametrize(
    ("name", "data", "first_name"),
    [
        ("old-mac.csv", b"email,first_name\rmac@example.com,Mac\r", "Mac"),
        ("mixed.csv", b"email,first_name\r\nmix@example.com,Mix\rmix2@example.com,Two\n", "Mix"),
        (
            "bom-bad-byte.csv",
            b"\xef\xbb\xbfemail,first_name\nbad@example.com,Bad\xff\n",
            "Bad\ufffd",
        ),
        (
            "truncated-utf16.csv",
            "email,first_name\nu16@example.com,Ute\n".encode("utf-16") + b"\x00",
            "Ute",
        ),
    ],
)
def test_odd_line_endings_and_stray_bytes_still_import(
    ana: User, directory: str, name: str, data: bytes, first_name: str
) -> None:
    drop_file(directory, name, data)
    (job,) = finish_imports(ana, directory)
    # The truncated file's stray last byte is a row of its own, reported as failed.
    assert job["status"] in ("completed", "completed_with_errors"), job
    assert job["created"] >= 1 and job["failed"] <= 1
    names = [c["first_name"] for c in contacts_of(ana, directory)]
    assert names[0] == first_name


def broken_workbook(cell_xml: str) -> bytes:
    """A valid workbook whose third row holds a cell openpyxl cannot parse."""
    rows = [["email", "first_name"], ["ok@example.com", "Ok"]]
    return workbook_with(rows, f'<row r="3">{cell_xml}</row></sheetData>')


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A3" t="n"><v>abc</v></c>',  # not a number
        '<c r="A3" t="s"><v>999</v></c>',  # no such shared string
        '<c r="A3" t="d"><v>2024-02-31</v></c>',  # no such day
    ],
)
def test_damaged_workbook_cells_fail_the_job_with_a_reason(
    ana: User, directory: str, cell: str
) -> None:
    drop_file(directory, "damaged.xlsx", broken_workbook(cell))
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "failed", job
    assert "damaged after row 2" in job["failure_reason"]
    assert job["created"] == 1  # the row before it was imported, and the counts say so


def test_a_huge_merged_range_costs_nothing(ana: User, directory: str) -> None:
    rows = [["email", "company"], ["a@example.com", "Acme"], ["b@example.com", None]]
    merge = '</sheetData><mergeCells count="1"><mergeCell ref="B2:XFD1048576"/></mergeCells>'
    data = workbook_with(rows, merge)
    drop_file(directory, "merged.xlsx", data)
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed", 2), job
    assert {c["extra"]["company"] for c in contacts_of(ana, directory)} == {"Acme"}


def test_a_blank_row_under_a_merged_cell_stays_blank(ana: User, directory: str) -> None:
    """A company merged down over a spacer row makes no contact (and no failed row) of it."""
    rows = [["email", "company"], ["a@example.com", "Acme"], ["b@example.com", None], [], []]
    rows[3:] = [[None, None], ["c@example.com", "Zed"]]
    merge = '</sheetData><mergeCells count="1"><mergeCell ref="B2:B4"/></mergeCells>'
    drop_file(directory, "merged.xlsx", workbook_with(rows, merge))
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["total_rows"], job["created"], job["failed"]) == (
        "completed",
        3,
        3,
        0,
    ), job
    companies = {c["email"]: c["extra"]["company"] for c in contacts_of(ana, directory)}
    assert companies == {"a@example.com": "Acme", "b@example.com": "Acme", "c@example.com": "Zed"}


def test_the_report_never_holds_a_runnable_formula(ana: User, directory: str) -> None:
    """Its field names and messages quote the file, and it opens in Excel."""
    header = '=HYPERLINK("http://evil.example","click me")'
    sheet = (  # a header cell of text, as a CSV saved as XLSX has it
        '<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c>'
        f'<c r="B1" t="inlineStr"><is><t>{escape(header)}</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>b@example.com</t></is></c>'
        '<c r="B2" t="e"><v>#N/A</v></c></row></sheetData>'
    )
    drop_file(directory, "evil.xlsx", workbook_with([], sheet))
    (job,) = finish_imports(ana, directory)
    text = requests.get(job["report_url"], timeout=10).content.decode("utf-8-sig")
    report = list(csv.reader(io.StringIO(text)))
    assert report[1][:3] == ["2", "warning", "'" + header], report
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in report for cell in line)


def test_a_read_me_sheet_describing_the_fields_is_passed_over(ana: User, directory: str) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    guide = workbook.active
    guide.title = "Read me"
    for line in (["Field", "Description"], ["Email", "The contact's email (required)"]):
        guide.append(line)
    guide.append(["Phone", "With the country code, e.g. +44 20 7946 0018"])
    contacts = workbook.create_sheet("Contacts")
    for line in (["Email", "Phone"], ["ann@example.com", "+44 20 7946 0018"], ["bo@example.com"]):
        contacts.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    drop_file(directory, "template.xlsx", buffer.getvalue())
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["sheet"], job["created"]) == ("completed", "Contacts", 2), job


def test_excel_error_cells_import_empty_and_the_report_names_them(
    ana: User, directory: str
) -> None:
    rows = [["email", "first_name", "company"], ["a@example.com", "Ana", "Acme"]]
    bad_row = (
        '<row r="3"><c r="A3" t="inlineStr"><is><t>b@example.com</t></is></c>'
        '<c r="B3" t="e"><f>VLOOKUP(A3,X:Y,2,0)</f><v>#N/A</v></c>'
        '<c r="C3" t="e"><v>#DIV/0!</v></c></row></sheetData>'
    )
    drop_file(directory, "errors.xlsx", workbook_with(rows, bad_row))
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed", 2), job
    by_email = {c["email"]: c for c in contacts_of(ana, directory)}
    assert by_email["b@example.com"]["first_name"] == ""  # not the text "#N/A"
    assert by_email["b@example.com"]["extra"] == {}
    text = requests.get(job["report_url"], timeout=10).content.decode("utf-8-sig")
    assert "3,warning,first_name,Excel shows the error #N/A here. Imported as empty." in text
    assert "3,warning,company,Excel shows the error #DIV/0! here. Imported as empty." in text


@pytest.mark.parametrize(
    ("data", "row"),
    [
        (b"Notes:\nExported from LinkedIn\n\nFirst Name,Email Address\nLi,li@example.com\n", 5),
        (b"sep=;\nemail;first_name\nli@example.com;Li\n", 3),
    ],
)
def test_title_lines_and_excel_sep_line_before_the_header(
    ana: User, directory: str, data: bytes, row: int
) -> None:
    drop_file(
        directory,
        "titled.csv",
        data + b"not-an-email" + (b";" if b"sep" in data else b",") + b"X\n",
    )
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed_with_errors", 1), job
    assert job["errors"][0]["row"] == row + 1  # row numbers are the file's


def test_first_filled_phone_column_wins_and_stray_cells_are_kept(ana: User, directory: str) -> None:
    data = (
        b"First Name,E-mail Address,Business Phone,Mobile Phone,,Notes\n"
        b"Bo,bo@example.com,,+1 415 555 0134,unnamed,n1,past,the end\n"
    )
    drop_file(directory, "outlook.csv", data)
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "completed", job
    (contact,) = contacts_of(ana, directory)
    assert contact["phone"] == "+14155550134"
    assert contact["extra"]["column 5"] == "unnamed"
    assert (contact["extra"]["column 7"], contact["extra"]["column 8"]) == ("past", "the end")


def test_more_than_100_extra_columns_keeps_the_contact_and_warns(ana: User, directory: str) -> None:
    header = "email," + ",".join(f"q{n}" for n in range(150))
    row = "wide@example.com," + ",".join("x" for _ in range(150))
    drop_file(directory, "wide.csv", f"{header}\n{row}\n".encode())
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed", 1), job
    (contact,) = contacts_of(ana, directory)
    assert len(contact["extra"]) == 100


@pytest.mark.parametrize(
    "data",
    [
        b"email,first_name\nann@example.com,Ann\x00\x00\nbo@example.com,B\x00o\x00\x00\x00\n",
        b"email,first_name\r\nann@example.com,Ann\r\nbo@example.com,Bo\r\n" + b"\x00" * 512,
    ],
    ids=["stray NULs in a small file", "NUL padding at the end"],
)
def test_a_few_nul_bytes_do_not_make_a_text_file_binary(
    ana: User, directory: str, data: bytes
) -> None:
    drop_file(directory, "nuls.csv", data)
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"], job["failed"]) == ("completed", 2, 0), job
    names = sorted(c["first_name"] for c in contacts_of(ana, directory))
    assert names == ["Ann", "Bo"]


def test_a_quote_never_closed_fails_the_job_naming_its_line(ana: User, directory: str) -> None:
    """Not a 'completed' job with the rest of the file inside one note."""
    data = (
        b"Email,First Name,Notes\n"
        b'q1@example.com,Q1,"a note\nover two lines"\n'
        b'q2@example.com,Q2,"oops, no closing quote\n'
        b"q3@example.com,Q3,fine\n"
    )
    drop_file(directory, "quotes.csv", data)
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "failed", job
    assert "A quote opened on line 4 is never closed" in job["failure_reason"]
    assert "Rows before it were imported" in job["failure_reason"]
    (contact,) = contacts_of(ana, directory)  # the row before it, intact
    assert contact["extra"]["Notes"] == "a note\nover two lines"


def test_a_file_damaged_in_its_first_row_says_no_row_was_imported(
    ana: User, directory: str
) -> None:
    drop_file(directory, "quotes.csv", b'Email,Notes\nq1@example.com,"never closed\n')
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "failed", job
    assert job["failure_reason"].endswith("No row was imported."), job


def test_one_bad_byte_does_not_turn_a_utf8_file_into_mojibake(ana: User, directory: str) -> None:
    data = "email,first_name\njose@example.com,José\n".encode() + b"bad@example.com,B\xffd\n"
    drop_file(directory, "almost-utf8.csv", data)
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "completed", job
    names = {c["email"]: c["first_name"] for c in contacts_of(ana, directory)}
    assert names == {"jose@example.com": "José", "bad@example.com": "B\ufffdd"}


def test_a_phone_that_does_not_parse_never_replaces_a_valid_one(ana: User, directory: str) -> None:
    """Within a file (the same email twice) and against the directory's contact, the
    valid phone stays and the report says why the other was not used."""
    status, _, _ = ana.post(
        "/api/contacts/contacts",
        {"directory": directory, "email": "yan@example.com", "phone": "+33 6 12 34 56 79"},
    )
    assert status == 201
    data = (
        b"email,phone\n"
        b"sam@example.com,+1 202 555 0111\n"
        b"SAM@example.com,555-0111 ext desk\n"  # read in no region: not a number
        b"yan@example.com,06 12 34 56 79\n"  # a French number read as the default region's
    )
    drop_file(directory, "phones.csv", data)
    (job,) = finish_imports(ana, directory)
    phones = {c["email"]: (c["phone"], c["phone_valid"]) for c in contacts_of(ana, directory)}
    assert phones == {
        "sam@example.com": ("+12025550111", True),
        "yan@example.com": ("+33612345679", True),
    }
    assert (job["created"], job["updated"], job["skipped"]) == (1, 0, 2), job
    assert job["warnings"] == 2  # seen on the job, not only in the report
    report = requests.get(job["report_url"], timeout=10).content.decode("utf-8-sig")
    assert (
        "3,warning,phone,Not used: 555-0111 ext desk is not a valid number; kept +12025550111."
        in report
    )
    assert (
        "4,warning,phone,Not used: 06 12 34 56 79 is not a valid number; kept +33612345679."
        in report
    )


def test_the_report_lists_each_updated_contact_and_what_changed(ana: User, directory: str) -> None:
    drop_file(directory, "first.csv", b"email,first_name\nana@example.com,Ana\n")
    finish_imports(ana, directory)
    drop_file(directory, "second.csv", b"email,first_name,last_name\nana@example.com,Ana,Lima\n")
    job = finish_imports(ana, directory)[0]
    assert (job["created"], job["updated"]) == (0, 1), job
    report = requests.get(job["report_url"], timeout=10).content.decode("utf-8-sig")
    assert "2,updated,,Updated the contact: last_name." in report


def test_a_file_is_read_by_its_bytes_not_its_name(ana: User, directory: str) -> None:
    """Web apps export tab-separated text as 'contacts.xls': it imports."""
    drop_file(directory, "contacts.xls", b"Email\tFirst Name\nweb@example.com\tWeb\n")
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed", 1), job


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # A plain list of addresses, no header at all.
        ("list.csv", b"ana@example.com\nion@example.com\n"),
        # A header in a language not known here, below a title.
        (
            "ro.csv",
            "Lista clienților\nNume;Adresă de email\n"
            "Ana;ana@example.com\nIon;ion@example.com\n".encode(),
        ),
        # A phone header known, the email's not.
        (
            "mixed.csv",
            b"Phone,Courrier du travail\n+33 6 12 34 56 78,ana@example.com\n,ion@example.com\n",
        ),
    ],
)
def test_a_column_of_addresses_is_the_email_column_whatever_its_header(
    ana: User, directory: str, name: str, data: bytes
) -> None:
    drop_file(directory, name, data)
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed", 2), job
    assert sorted(c["email"] for c in contacts_of(ana, directory)) == [
        "ana@example.com",
        "ion@example.com",
    ]


def test_a_workbook_of_addresses_without_a_header_imports(ana: User, directory: str) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["ana@example.com", "Ana"])
    workbook.active.append(["ion@example.com", "Ion"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    drop_file(directory, "plain.xlsx", buffer.getvalue())
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed", 2), job
    contact = next(c for c in contacts_of(ana, directory) if c["email"] == "ana@example.com")
    assert contact["extra"] == {"column 2": "Ana"}


@pytest.mark.parametrize(
    ("data", "emails"),
    [
        # A first line holding a name and an address is a contact, not a header.
        (b"Alice <alice@example.com>\nbob@example.com\n", ["alice@example.com", "bob@example.com"]),
        # A contact named Mel (French for email) or Cell is no header.
        (
            b"Ann,Lee,ann@example.com\nMel,Ray,mel@example.com\n",
            ["ann@example.com", "mel@example.com"],
        ),
    ],
)
def test_a_headerless_list_keeps_its_first_contact(
    ana: User, directory: str, data: bytes, emails: list[str]
) -> None:
    drop_file(directory, "plain.csv", data)
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "completed", job
    assert sorted(c["email"] for c in contacts_of(ana, directory)) == emails


@pytest.mark.parametrize(
    "data",
    [
        # A manager's address on every row is not the contacts'.
        b"Name,Phone,Manager\nAna,+33 6 12 34 56 78,boss@example.com\n"
        b"Ion,+33 6 12 34 56 79,boss@example.com\n",
        # Two columns of addresses under unknown headers: which is the contact's is not guessed.
        b"Name,Phone,Assistent,Adresa\nAna,+33 6 12 34 56 78,as1@example.com,ana@example.com\n"
        b"Ion,+33 6 12 34 56 79,as2@example.com,ion@example.com\n",
    ],
)
def test_no_address_column_is_guessed_when_it_is_not_clear(
    ana: User, directory: str, data: bytes
) -> None:
    drop_file(directory, "people.csv", data)
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["created"]) == ("completed", 2), job
    assert all(c["email"] is None for c in contacts_of(ana, directory))


def test_a_read_me_sheet_with_a_help_address_does_not_win_over_the_contacts(
    ana: User, directory: str
) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Read me"
    workbook.active.append(["Questions?", "help@acme.example.com"])
    contacts = workbook.create_sheet("Contacts")
    contacts.append(["Name", "Email"])
    contacts.append(["Ana Lima", "ana@example.com"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    drop_file(directory, "book.xlsx", buffer.getvalue())
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["sheet"], job["created"]) == ("completed", "Contacts", 1), job
