"""Running an import job: file in S3 → rows → contacts, in bounded chunks.

Steps, each resumable:
1. download the object to a temporary file (memory stays flat);
2. tell the format by its first bytes, refuse what is not contacts with a
   reason a person understands;
3. find the header, map its columns;
4. parse, merge and write rows in chunks, saving counts and the position
   after every chunk (progress, and the checkpoint a redelivered or
   continued message resumes from);
5. when the Lambda run is nearly out of time, queue a continuation;
6. at the end, join the report parts into one CSV and set the status.
"""

from __future__ import annotations

import csv
import gc
import io
import itertools
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO, Any, BinaryIO

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import queues
from chalicelib.aws import client
from chalicelib.db import CONDITION_FAILED_REASON, condition_failed, connection, utcnow
from chalicelib.directories.models import DirectoryRecord
from chalicelib.directories.service import PURGE_REQUESTED
from chalicelib.formulas import neutralised
from chalicelib.imports import models
from chalicelib.imports.headers import (
    ColumnMap,
    email_column,
    find_header,
    looks_like_header,
    map_columns,
    with_email_column,
)
from chalicelib.imports.models import ImportRecord
from chalicelib.imports.rows import ParsedRow, is_blank, parse_row
from chalicelib.imports.textfiles import UnreadableFileError, read_rows
from chalicelib.imports.workbooks import open_sheet, peek
from chalicelib.imports.writer import ChunkWriter, DirectoryGoneError, Outcome

log = logging.getLogger(__name__)

# 5,000 rows: 200 batch writes of 25, one count and one progress update,
# so 40.4 write requests per 1,000 rows; progress shows every 5,000 rows
# (under a second of work), and a chunk's rows and items take a few MB.
CHUNK_ROWS = 5000
# Stop taking new chunks when a run has less than this left, and continue
# in a new message: a chunk never takes near this long.
STOP_WHEN_MS_LEFT = 60_000
CONTINUE_IMPORT = "continue_import"
# Allocations between two young-generation collections during a run (default 700).
GC_THRESHOLD = 100_000
REPORT_HEADER = ["row", "outcome", "field", "message"]
_DOWNLOAD_BYTES = 1024 * 1024


# How long an import waits, in a delayed message, for another import into
# the same directory to end its run.
DIRECTORY_BUSY_DELAY_SECONDS = 5


class JobBusyError(RuntimeError):
    """Another run holds the job's lease; the message is retried after it ends."""


def run_import(job: ImportRecord, remaining_ms: Callable[[], int]) -> None:
    """Advance ``job`` as far as this run's time allows.

    A run holds a lease on the job for as long as it may live, so a message
    redelivered while the run goes on (a visibility timeout shorter than the
    run) cannot start a second run of the same rows; it raises
    :class:`JobBusyError` and SQS retries it after the lease is over.

    It also holds the directory's import lease: two imports into one
    directory (the same file uploaded twice at once) take turns, since each
    counts as created the new contacts it read as missing. The one that
    finds the directory taken waits in a delayed message.
    """
    if job.status in models.FINISHED:
        log.info("import %s already %s; nothing to do", job.import_id, job.status)
        return
    _take_lease(job, remaining_ms())
    more = True
    try:
        if not _take_directory(job, remaining_ms()):
            if _directory_exists(job):
                log.info("import %s waits: another import is writing its directory", job.import_id)
                if not int(job.rows_done):
                    _set(job, status=models.PENDING)  # not started, as its counts say
                _continue_later(job, DIRECTORY_BUSY_DELAY_SECONDS)
            else:
                _fail(job, "The directory was deleted before the file was imported.")
            return
        try:
            with _collector_for_bulk_work():
                more = _run(job, remaining_ms)
        finally:
            _release_directory(job)
    finally:
        job.update(actions=[ImportRecord.lease_until.remove()])
    if more:
        # Queued after the leases are gone, so the next run can take them at once.
        _continue_later(job)
        log.info("import %s continues in a new run after %d rows", job.import_id, job.rows_done)


def _continue_later(job: ImportRecord, delay_seconds: int = 0) -> None:
    message = {"kind": CONTINUE_IMPORT, "owner_id": job.owner_id, "import_id": job.import_id}
    queues.send("imports", message, delay_seconds=delay_seconds)


def _take_directory(job: ImportRecord, milliseconds: int) -> bool:
    """Take the directory's import lease for this run; False when another import holds it."""
    now = utcnow()
    free = (
        DirectoryRecord.import_lease_until.does_not_exist()
        | (DirectoryRecord.import_lease_until < now)
        | (DirectoryRecord.import_lease == job.import_id)
    )
    try:
        DirectoryRecord(job.owner_id, job.directory_id).update(
            actions=[
                DirectoryRecord.import_lease.set(job.import_id),
                DirectoryRecord.import_lease_until.set(now + timedelta(milliseconds=milliseconds)),
            ],
            condition=DirectoryRecord.directory_id.exists() & free,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _directory_exists(job: ImportRecord) -> bool:
    try:
        DirectoryRecord.get(job.owner_id, job.directory_id, consistent_read=True)
    except DirectoryRecord.DoesNotExist:
        return False
    return True


def _release_directory(job: ImportRecord) -> None:
    try:
        DirectoryRecord(job.owner_id, job.directory_id).update(
            actions=[
                DirectoryRecord.import_lease.remove(),
                DirectoryRecord.import_lease_until.remove(),
            ],
            condition=DirectoryRecord.import_lease == job.import_id,
        )
    except UpdateError as exc:
        if not condition_failed(exc):  # deleted meanwhile, or the lease ran out and moved on
            raise


_bulk = threading.Lock()
_bulk_runs = 0  # runs going on in this process (the local stack runs handlers in threads)
_usual_thresholds = gc.get_threshold()


@contextmanager
def _collector_for_bulk_work() -> Iterator[None]:
    """Run the cycle collector less often, and never over what existed before the run.

    A run makes millions of short-lived objects (cells, rows, items). At the
    default threshold the collector ran thousands of times per 100,000 rows,
    each full collection walking every module, class and botocore model
    loaded before the run: a quarter of the run's CPU time. Frozen
    (``gc.freeze``), those are skipped, and a higher first threshold lets
    reference counting free the rows first; cycles the run makes are still
    collected. The first run to start sets this, the last to end sets the
    collector back.
    """
    global _bulk_runs, _usual_thresholds
    with _bulk:
        if _bulk_runs == 0:
            _usual_thresholds = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(GC_THRESHOLD, *_usual_thresholds[1:])
        _bulk_runs += 1
    try:
        yield
    finally:
        with _bulk:
            _bulk_runs -= 1
            if _bulk_runs == 0:
                gc.set_threshold(*_usual_thresholds)
                gc.unfreeze()


def _take_lease(job: ImportRecord, milliseconds: int) -> None:
    now = utcnow()
    try:
        job.update(
            actions=[
                ImportRecord.lease_until.set(now + timedelta(milliseconds=milliseconds)),
                ImportRecord.status.set(models.PROCESSING),
                ImportRecord.updated_at.set(now),
            ],
            condition=ImportRecord.lease_until.does_not_exist() | (ImportRecord.lease_until < now),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise JobBusyError(f"import {job.import_id} is being run by another worker") from exc
        raise


def _run(job: ImportRecord, remaining_ms: Callable[[], int]) -> bool:
    """One run's share of the work; whether rows remain for another run."""
    with tempfile.TemporaryFile() as file:
        try:
            _download(job, file)
            header_number, header, rows = _open(file, job)
        except UnreadableFileError as exc:
            _fail(job, str(exc))
            return False
        columns = map_columns(header)
        if not columns.has_address:
            _fail(job, "No email or phone column: the header row is " + ", ".join(header) + ".")
            return False
        try:
            finished = _import_rows(job, header_number, columns, rows, remaining_ms)
        except UnreadableFileError as exc:
            before = "Rows before it were imported (see the counts)."
            _fail(job, f"{exc} {before if int(job.total_rows) else 'No row was imported.'}")
            return False
        except DirectoryGoneError:
            # Rows written after the purge began would be orphans: purge again.
            queues.send(
                "cleanup",
                {
                    "kind": PURGE_REQUESTED,
                    "owner_id": job.owner_id,
                    "directory_id": job.directory_id,
                },
            )
            _fail(job, "The directory was deleted while the file was being imported.")
            return False
    if finished:
        _finish(job)
    return not finished


def _download(job: ImportRecord, file: BinaryIO) -> None:
    """The job's file into ``file``: the same bytes in every run of the job.

    The first run records the object's ETag; later runs (continuations,
    retries) read the object only if it still has it, since a checkpoint
    counts rows of that file and would resume mid-way through another one.
    A replaced file gets its own S3 event, and so its own job.
    """
    from botocore.exceptions import ClientError

    pinned = {"IfMatch": job.source_etag} if job.source_etag else {}
    try:
        # One GET streamed to disk (download_fileobj takes no IfMatch).
        response = client("s3").get_object(Bucket=job.source_bucket, Key=job.source_key, **pinned)
        shutil.copyfileobj(response["Body"], file, _DOWNLOAD_BYTES)
        etag = str(response["ETag"])
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in ("PreconditionFailed", "412"):
            raise UnreadableFileError(
                "The file was replaced while it was being imported; rows counted so far "
                "were imported, and the new file is imported as an import of its own."
            ) from exc
        if code in ("NoSuchKey", "404", "NotFound"):
            raise UnreadableFileError(
                "The file was deleted from the bucket before it was read."
            ) from exc
        raise
    if not job.source_etag:
        _set(job, source_etag=etag)
    file.seek(0)


def _open(file: BinaryIO, job: ImportRecord) -> tuple[int, list[str], Iterator[list[str]]]:
    """The header's row number, the header, and the rows after it."""
    head = file.read(8)
    file.seek(0)
    if not head:
        raise UnreadableFileError("The file is empty.")
    if head.startswith(b"%PDF"):
        raise UnreadableFileError("This is a PDF. Export the contacts as CSV or XLSX instead.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFileError(_office_binary_reason(file))
    if head.startswith(b"PK\x03\x04"):
        sheet, rows = open_sheet(file, looks_like_header, job.sheet)
        if job.sheet != sheet:
            _set(job, sheet=sheet)
    else:
        if reason := _not_a_table_reason(file):
            raise UnreadableFileError(reason)
        _, rows = read_rows(file)
    return _header(rows)


def _not_a_table_reason(file: BinaryIO) -> str | None:
    """Why a text file that is not a table at all is not read (else None): web apps'
    "Excel" exports that are web pages, Excel 2003 XML, and contact cards (vCard)."""
    start = file.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    file.seek(0)
    if start.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")):
        return (
            "This is a web page (HTML), not a spreadsheet, though some sites name such "
            "exports .xls. Open it in Excel, save it as .xlsx or CSV, and upload that."
        )
    if start.startswith(b"<?xml"):
        return (
            "This is an XML file (perhaps an Excel 2003 XML spreadsheet). Open it in "
            "Excel, save it as .xlsx or CSV, and upload that."
        )
    if start.startswith(b"begin:vcard"):
        return (
            "This is a vCard (.vcf) file of contact cards, not a table. Export the "
            "contacts as CSV instead (Google Contacts: Export > Google CSV; Outlook: "
            "Export to a file > CSV)."
        )
    return None


# Office keeps a password-protected workbook in a compound file (as an old
# .xls is), as a stream of this name.
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


def _office_binary_reason(file: BinaryIO) -> str:
    """Why a compound (OLE) file is not read: a protected workbook or an old .xls."""
    tail = b""
    try:
        while chunk := file.read(1024 * 1024):
            if _ENCRYPTED_STREAM in tail + chunk:
                return (
                    "This workbook is protected with a password. Open it in Excel, remove "
                    "the password (File > Info > Protect Workbook), save and upload it again."
                )
            tail = chunk[-len(_ENCRYPTED_STREAM) :]
    finally:
        file.seek(0)
    return "This is an old Excel (.xls) file. Save it as .xlsx or CSV and upload that."


HEADER_SEARCH_ROWS = 20


def _header(rows: Iterator[list[str]]) -> tuple[int, list[str], Iterator[list[str]]]:
    """The header (the first row naming an email or phone column, within the
    first rows: exports put titles and notes above it), its number, the rest.

    A column of addresses is the email column whatever its header says, or
    with no header at all (then the header's number is 0 and every row is
    data); see :func:`headers.find_header`.
    """
    first: list[str] | None = None
    seen = 0
    read: list[list[str]] = []  # every row so far, blank ones too: they keep rows' numbers
    for number, row in enumerate(rows, start=1):
        read.append(row)
        if is_blank(row):
            continue
        if looks_like_header(row):
            below, rest = peek(rows, HEADER_SEARCH_ROWS)
            return number, _with_found_email(row, below), itertools.chain(below, rest)
        first = first or row
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise UnreadableFileError("The file has no rows.")
    found = find_header(read)
    if found is not None:
        index, header = found
        return index + 1, header, itertools.chain(read[index + 1 :], rows)
    cells = ", ".join(c for c in first if c.strip())[:200]
    raise UnreadableFileError(
        f"No header row with an email or phone column in the first {HEADER_SEARCH_ROWS} rows; "
        f"the first row is: {cells}."
    )


def _with_found_email(header: list[str], below: list[list[str]]) -> list[str]:
    """The header, its column of addresses named the email column if no header did."""
    columns = map_columns(header)
    if "email" in columns.core:
        return header
    filled = [row for row in below if not is_blank(row)]
    column = email_column(filled, taken=frozenset(columns.core.values()))
    return header if column is None else with_email_column(header, column)


def _import_rows(
    job: ImportRecord,
    header_number: int,
    columns: ColumnMap,
    rows: Iterator[list[str]],
    remaining_ms: Callable[[], int],
) -> bool:
    """Import chunks until the file ends (True) or time runs short (False)."""
    writer = ChunkWriter(job.owner_id, job.directory_id)
    done = int(job.rows_done)
    for _ in range(done):  # resume: rows before the checkpoint are written
        next(rows, None)
    number = header_number + done
    with tempfile.TemporaryFile() as report:
        text = io.TextIOWrapper(report, encoding="utf-8", newline="")
        report_writer = csv.writer(text)
        while True:
            chunk: list[ParsedRow] = []
            consumed = 0
            unreadable: UnreadableFileError | None = None
            try:
                for cells in rows:
                    number += 1
                    consumed += 1
                    if not is_blank(cells):
                        chunk.append(parse_row(number, cells, columns, job.phone_region))
                    if consumed >= CHUNK_ROWS:
                        break
            except UnreadableFileError as exc:
                unreadable = exc  # write the rows read so far, then stop
            if not consumed and unreadable is None:
                _upload_report_part(job, text, report)
                return True
            # The tag is the chunk's place in the file: a run resuming from
            # the checkpoint reads the same chunk under the same tag.
            outcome = writer.write(chunk, tag=f"{job.import_id}:{done}")
            for row in chunk:
                if row.warnings and not row.errors:
                    outcome.warned += 1
                for field_name, message in row.warnings:
                    outcome.notes.append((row.number, "warning", field_name, message))
            report_writer.writerows(_report_rows(outcome.notes))
            _save_progress(job, len(chunk), consumed, outcome)
            done += consumed
            if unreadable is not None:
                _upload_report_part(job, text, report)
                raise unreadable
            if remaining_ms() < STOP_WHEN_MS_LEFT:
                _upload_report_part(job, text, report)
                return False


def _report_rows(notes: list[tuple[int, str, str, str]]) -> Iterator[tuple[Any, ...]]:
    """The report's rows in file order, never runnable as formulas: the report opens in
    Excel, and its field names and messages quote the file (a header, a value)."""
    for number, outcome, field_name, message in sorted(notes):
        yield number, outcome, neutralised(field_name), neutralised(message)


def _save_progress(job: ImportRecord, total: int, consumed: int, outcome: Outcome) -> None:
    """The chunk's counts and checkpoint, and the directory's new contacts, in one transaction.

    Apart, a stop between the two would leave ``contact_count`` short (the
    chunk's contacts found again and taken as old) or counted twice.
    """
    errors = list(job.errors or [])
    for number, kind, field_name, message in sorted(outcome.notes):
        if kind == "failed" and len(errors) < models.MAX_ERRORS_ON_JOB:
            errors.append({"row": number, "field": field_name, "message": message})
    progress: list[Action] = [
        ImportRecord.total_rows.add(total),
        ImportRecord.created.add(outcome.created),
        ImportRecord.updated.add(outcome.updated),
        ImportRecord.skipped.add(outcome.skipped),
        ImportRecord.failed.add(outcome.failed),
        ImportRecord.warned.add(outcome.warned),
        ImportRecord.rows_done.add(consumed),
        ImportRecord.errors.set(errors),
        ImportRecord.updated_at.set(utcnow()),
    ]
    if not outcome.created:
        job.update(actions=progress)
        return
    directory = DirectoryRecord(job.owner_id, job.directory_id)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(
                directory,
                actions=[DirectoryRecord.contact_count.add(outcome.created)],
                condition=DirectoryRecord.directory_id.exists(),
            )
            tx.update(job, actions=progress)
    except TransactWriteError as exc:
        reasons = [reason.code if reason else None for reason in exc.cancellation_reasons or []]
        if reasons and reasons[0] == CONDITION_FAILED_REASON:
            raise DirectoryGoneError("the directory was deleted during the import") from exc
        raise
    job.refresh()  # the transaction returns nothing: read the counts it set


def _upload_report_part(job: ImportRecord, text: io.TextIOWrapper, raw: IO[bytes]) -> None:
    text.flush()
    raw.seek(0)
    part = int(job.report_parts)
    # put_object, not upload_fileobj: the latter closes the file it is given.
    client("s3").put_object(Bucket=job.source_bucket, Key=_report_key(job, part), Body=raw)
    _set(job, report_parts=part + 1)


def _finish(job: ImportRecord) -> None:
    """Join the report parts into one CSV and set the final status."""
    s3 = client("s3")
    key = f"reports/{job.owner_id}/{job.import_id}/report.csv"
    with tempfile.TemporaryFile() as joined:
        # A byte-order mark so Excel opens the report as UTF-8.
        joined.write(("\ufeff" + ",".join(REPORT_HEADER) + "\r\n").encode("utf-8"))
        for part in range(int(job.report_parts)):
            body = s3.get_object(Bucket=job.source_bucket, Key=_report_key(job, part))["Body"]
            for piece in body.iter_chunks(1024 * 1024):
                joined.write(piece)
        joined.seek(0)
        s3.put_object(Bucket=job.source_bucket, Key=key, Body=joined, ContentType="text/csv")
    if int(job.total_rows) == 0:
        _set(job, report_key=key)
        _fail(job, "The file has a header but no contacts below it.")
        return
    status = models.COMPLETED if int(job.failed) == 0 else models.COMPLETED_WITH_ERRORS
    _set(job, status=status, report_key=key)
    log.info(
        "import %s %s: %d rows, %d created, %d updated, %d skipped, %d failed",
        job.import_id,
        status,
        job.total_rows,
        job.created,
        job.updated,
        job.skipped,
        job.failed,
    )


def _report_key(job: ImportRecord, part: int) -> str:
    return f"reports/{job.owner_id}/{job.import_id}/part-{part:05d}.csv"


def _fail(job: ImportRecord, reason: str) -> None:
    _set(job, status=models.FAILED, failure_reason=reason)
    log.warning("import %s failed: %s", job.import_id, reason)


def _set(job: ImportRecord, **values: Any) -> None:
    actions = [getattr(ImportRecord, name).set(value) for name, value in values.items()]
    job.update(actions=[*actions, ImportRecord.updated_at.set(utcnow())])
