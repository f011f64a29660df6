"""Exports: a direct download for small directories, jobs writing to S3 for any size."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from typing import IO, Any

from pynamodb.exceptions import UpdateError

from chalicelib import queues
from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.db import condition_failed, iso, utcnow
from chalicelib.directories.service import get_directory
from chalicelib.errors import (
    ExportNotPossibleError,
    ExportTooLargeError,
    NotFoundError,
    ValidationError,
)
from chalicelib.exports import models
from chalicelib.exports.files import filename_for, write_export
from chalicelib.exports.formats import FORMATS
from chalicelib.exports.models import ExportRecord
from chalicelib.ids import looks_like_id, new_id

log = logging.getLogger(__name__)

JOBS_ROUTE = "/api/contacts/exports"
DOWNLOAD_SECONDS = 3600
KEEP_DAYS = 7
# Files up to this size stay in memory while written; bigger ones spill to /tmp.
SPOOL_BYTES = 8 * 1024 * 1024


def check_format(fmt: str | None, field: str = "format") -> str:
    """The format asked for, or a 400 naming the field and the choices."""
    value = (fmt or "").strip().lower()
    if value not in FORMATS:
        raise ValidationError.for_field(field, "Use one of csv, xlsx, pdf.")
    return value


def export_now(owner_id: str, directory_id: str, fmt: str) -> tuple[bytes, str]:
    """The export file and its name, if small enough for one response (else 413)."""
    directory = get_directory(owner_id, directory_id)
    cfg = settings()
    limit = cfg.sync_pdf_max_contacts if fmt == "pdf" else cfg.sync_export_max_contacts
    if int(directory.contact_count or 0) > limit:
        raise _too_large(f"more than {limit:,} contacts")
    now = utcnow()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
        write_export(out, fmt, directory, now)
        size = out.tell()
        if size > cfg.sync_export_max_bytes:
            raise _too_large(f"{size:,} bytes, more than {cfg.sync_export_max_bytes:,}")
        out.seek(0)
        body = out.read()
    return body, filename_for(directory, fmt, now)


def _too_large(why: str) -> ExportTooLargeError:
    return ExportTooLargeError(
        f"This export is too large for a direct download ({why}). "
        f"Start an export job with POST {JOBS_ROUTE} and download the file it links to.",
        export_jobs_url=JOBS_ROUTE,
    )


def create_job(owner_id: str, directory_id: str, fmt: str) -> ExportRecord:
    """A pending export job for the owner's directory, handed to the exports worker."""
    directory = get_directory(owner_id, directory_id)
    now = utcnow()
    export_id = new_id()
    filename = filename_for(directory, fmt, now)
    job = ExportRecord(
        owner_id,
        export_id,
        directory_id=directory_id,
        format=fmt,
        filename=filename,
        object_key=f"exports/{owner_id}/{export_id}/export.{FORMATS[fmt].extension}",
        created_at=now,
        expires_at=now + timedelta(days=KEEP_DAYS),
    )
    job.save(condition=ExportRecord.export_id.does_not_exist())
    queues.send("exports", {"owner_id": owner_id, "export_id": export_id})
    log.info("export %s of directory %s queued", export_id, directory_id)
    return job


def get_job(owner_id: str, export_id: str) -> ExportRecord:
    """The owner's export job; 404 for anyone else's."""
    if not looks_like_id(export_id):
        raise NotFoundError("No such export.")
    try:
        return ExportRecord.get(owner_id, export_id, consistent_read=True)
    except ExportRecord.DoesNotExist:
        raise NotFoundError("No such export.") from None


def run_job(owner_id: str, export_id: str) -> None:
    """Write the export to S3 (the worker); a redelivered message for a done job does nothing."""
    try:
        job = ExportRecord.get(owner_id, export_id, consistent_read=True)
    except ExportRecord.DoesNotExist:
        log.warning("export %s is gone; nothing to do", export_id)
        return
    if job.status in models.FINISHED:
        return
    try:
        directory = get_directory(owner_id, job.directory_id)
    except NotFoundError:
        _fail(job, "The directory was deleted before its export ran.")
        return
    job.update(actions=[ExportRecord.status.set(models.PROCESSING)])
    with tempfile.TemporaryFile() as out:
        try:
            rows = write_export(out, job.format, directory, utcnow())
        except ExportNotPossibleError as exc:
            _fail(job, exc.detail)  # no retry makes it possible
            return
        size = out.tell()
        out.seek(0)
        _upload(out, job)
    job.update(
        actions=[
            ExportRecord.status.set(models.COMPLETED),
            ExportRecord.row_count.set(rows),
            ExportRecord.size_bytes.set(size),
            ExportRecord.finished_at.set(utcnow()),
        ]
    )
    log.info("export %s completed: %s contacts, %s bytes", export_id, rows, size)


def _upload(out: IO[bytes], job: ExportRecord) -> None:
    client("s3").upload_fileobj(
        out,
        settings().files_bucket,
        job.object_key,
        ExtraArgs={"ContentType": FORMATS[job.format].content_type},
    )


def fail_job(owner_id: str, export_id: str, reason: str) -> None:
    """Mark an unfinished job failed (its messages ran out of retries)."""
    try:
        job = ExportRecord.get(owner_id, export_id, consistent_read=True)
    except ExportRecord.DoesNotExist:
        return
    _fail(job, reason)


def _fail(job: ExportRecord, reason: str) -> None:
    try:
        job.update(
            actions=[
                ExportRecord.status.set(models.FAILED),
                ExportRecord.failure_reason.set(reason),
                ExportRecord.finished_at.set(utcnow()),
            ],
            condition=ExportRecord.status.is_in(models.PENDING, models.PROCESSING),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
    log.error("export %s failed: %s", job.export_id, reason)


def job_out(job: ExportRecord) -> dict[str, Any]:
    """The job as the API shows it; a completed job links its file for an hour."""
    return {
        "id": job.export_id,
        "directory_id": job.directory_id,
        "format": job.format,
        "status": job.status,
        "filename": job.filename,
        "row_count": int(job.row_count or 0),
        "size_bytes": int(job.size_bytes or 0),
        "failure_reason": job.failure_reason,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at) if job.finished_at else None,
        "download_url": download_url(job) if job.status == models.COMPLETED else None,
    }


def download_url(job: ExportRecord) -> str:
    """A presigned GET that saves the file under its name."""
    from chalicelib.exports.files import content_disposition

    url: str = client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings().files_bucket,
            "Key": job.object_key,
            "ResponseContentDisposition": content_disposition(job.filename),
            "ResponseContentType": FORMATS[job.format].content_type,
        },
        ExpiresIn=DOWNLOAD_SECONDS,
    )
    return url
