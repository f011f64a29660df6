"""Import jobs: created by the API or by an S3 drop, read by their owner.

S3 keys say where a file goes:
- ``imports/<directory_id>/<import_id>/<filename>``: uploaded through the
  API, whose job already exists;
- ``imports/<directory_id>/<anything else>``: dropped into the bucket by
  anyone with the rights (``aws s3 cp``, a partner's job); its job is made
  from the S3 event, with an id derived from the object's key and sequencer,
  so a redelivered or replayed event finds the same job.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.db import condition_failed, iso, utcnow
from chalicelib.directories.models import DirectoryRecord
from chalicelib.directories.service import get_directory
from chalicelib.errors import NotFoundError, ValidationError
from chalicelib.http.pagination import Page, PageRequest, fetch_page, model_key
from chalicelib.ids import id_for, looks_like_id, new_id
from chalicelib.imports import models
from chalicelib.imports.models import ImportRecord

log = logging.getLogger(__name__)

IMPORTS_PREFIX = "imports/"
MAX_FILENAME = 200
PRESIGNED_SECONDS = 3600
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def safe_filename(name: str) -> str:
    """A file name fit for an S3 key: no path, no control characters, bounded."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "upload"
    return cleaned[-MAX_FILENAME:]


def create_upload_job(
    owner_id: str,
    directory_id: str,
    filename: str,
    *,
    sheet: str | None = None,
    phone_region: str | None = None,
) -> ImportRecord:
    """A pending job for a file the client is about to upload."""
    get_directory(owner_id, directory_id)
    if not filename.strip():
        raise ValidationError.for_field("filename", "Give the file's name.")
    region = _region(phone_region)
    import_id = new_id()
    name = safe_filename(filename)
    key = f"{IMPORTS_PREFIX}{directory_id}/{import_id}/{name}"
    bucket = settings().files_bucket
    return _new_job(
        owner_id, import_id, directory_id, name, bucket, key, sheet=sheet, phone_region=region
    )


def _region(value: str | None) -> str | None:
    """The import's phone region, checked; ``None`` for the configured default."""
    if value is None or not value.strip():
        return None
    from chalicelib.contacts.normalize import FieldError, clean_region

    try:
        return clean_region(value)
    except FieldError as exc:
        raise ValidationError.for_field(exc.field, exc.message) from None


def _new_job(
    owner_id: str,
    import_id: str,
    directory_id: str,
    filename: str,
    bucket: str,
    key: str,
    *,
    sheet: str | None = None,
    sequencer: str | None = None,
    phone_region: str | None = None,
) -> ImportRecord:
    now = utcnow()
    job = ImportRecord(
        owner_id,
        import_id,
        directory_id=directory_id,
        directory_import=f"{directory_id}#{import_id}",
        status=models.PENDING,
        filename=filename,
        source_bucket=bucket,
        source_key=key,
        source_sequencer=sequencer,
        sheet=sheet.strip() if sheet and sheet.strip() else None,
        phone_region=phone_region,
        created_at=now,
        updated_at=now,
    )
    job.save(condition=ImportRecord.import_id.does_not_exist())
    log.info("import %s created for directory %s", import_id, directory_id)
    return job


def upload_url(job: ImportRecord) -> dict[str, Any]:
    """A presigned PUT for the job's file, valid for an hour, for files of any size."""
    url = client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": job.source_bucket, "Key": job.source_key},
        ExpiresIn=PRESIGNED_SECONDS,
    )
    return {"url": url, "method": "PUT", "expires_in": PRESIGNED_SECONDS}


def store_upload(job: ImportRecord, body: bytes, content_type: str) -> None:
    """Put an uploaded file where its job expects it; S3's event starts the import."""
    client("s3").put_object(
        Bucket=job.source_bucket, Key=job.source_key, Body=body, ContentType=content_type
    )


def get_job(owner_id: str, import_id: str) -> ImportRecord:
    """The owner's job; 404 for anyone else's."""
    if not looks_like_id(import_id):
        raise NotFoundError("No such import.")
    try:
        return expire_if_abandoned(ImportRecord.get(owner_id, import_id, consistent_read=True))
    except ImportRecord.DoesNotExist:
        raise NotFoundError("No such import.") from None


def expire_if_abandoned(job: ImportRecord) -> ImportRecord:
    """A job still waiting for its file after the upload URL expired fails, saying so."""
    deadline = job.created_at + timedelta(seconds=PRESIGNED_SECONDS + 300)
    if job.status != models.PENDING or utcnow() < deadline:
        return job
    try:
        job.update(
            actions=[
                ImportRecord.status.set(models.FAILED),
                ImportRecord.failure_reason.set(
                    "No file arrived before the upload URL expired. Start a new import."
                ),
                ImportRecord.updated_at.set(utcnow()),
            ],
            condition=ImportRecord.status == models.PENDING,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        job.refresh(consistent_read=True)  # the file arrived meanwhile
    return job


def list_jobs(owner_id: str, directory_id: str, page: PageRequest) -> Page:
    """The directory's jobs, newest first."""
    get_directory(owner_id, directory_id)
    return fetch_page(
        lambda limit, start: ImportRecord.by_directory.query(
            owner_id,
            ImportRecord.directory_import.startswith(f"{directory_id}#"),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
        ),
        page,
        lambda job: model_key(job, ["owner_id", "import_id", "directory_import"]),
    )


def job_for_object(
    bucket: str, key: str, sequencer: str, event_time: datetime
) -> ImportRecord | None:
    """The job of an object in ``imports/``: the API's, or one made for an S3 drop.

    ``None`` when the key names no existing directory (logged: nobody owns it).
    """
    parts = key[len(IMPORTS_PREFIX) :].split("/")
    if not key.startswith(IMPORTS_PREFIX) or len(parts) < 2 or not parts[-1]:
        log.error("object %s is not under imports/<directory_id>/; ignored", key)
        return None
    directory_id = parts[0]
    owner_id = owner_of(directory_id)
    if owner_id is None:
        log.error("object %s names no existing directory; ignored", key)
        return None
    if len(parts) >= 3 and looks_like_id(parts[1]):
        job = _upload_job(owner_id, parts[1], key, sequencer)
        if job is not None:
            return job
    # An S3 drop, or a second upload to an API job's URL: a job of its own.
    millis = int(event_time.timestamp() * 1000)
    import_id = id_for(millis, f"{bucket}\n{key}\n{sequencer}".encode())
    try:
        return _new_job(
            owner_id,
            import_id,
            directory_id,
            safe_filename(parts[-1]),
            bucket,
            key,
            sequencer=sequencer or None,
        )
    except PutError:
        # The same event again: the job exists already.
        return ImportRecord.get(owner_id, import_id, consistent_read=True)


def _upload_job(owner_id: str, import_id: str, key: str, sequencer: str) -> ImportRecord | None:
    """The API's job for the object, if this write of the key is the one it imports.

    The first event for the key claims the job; a redelivery of that event
    finds it again. Another write of the key (the URL used twice within its
    hour) is not that job's file: ``None``, so it gets a job of its own
    rather than being dropped as "already imported".
    """
    try:
        job = ImportRecord.get(owner_id, import_id, consistent_read=True)
    except ImportRecord.DoesNotExist:
        return None
    if job.source_key != key:
        return None
    if not sequencer or job.source_sequencer == sequencer:
        return job
    if job.source_sequencer is None:
        try:
            job.update(
                actions=[ImportRecord.source_sequencer.set(sequencer)],
                condition=ImportRecord.source_sequencer.does_not_exist(),
            )
            return job
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            job.refresh(consistent_read=True)  # another event claimed it meanwhile
            return job if job.source_sequencer == sequencer else None
    return None


def owner_of(directory_id: str) -> str | None:
    """The owner of a directory, found by its id alone (for S3 drops)."""
    if not looks_like_id(directory_id):
        return None
    for item in DirectoryRecord.by_id.query(directory_id, limit=1):
        return str(item.owner_id)
    return None


def job_out(job: ImportRecord) -> dict[str, Any]:
    """The API's view of a job; ``report_url`` is a presigned download once there is one."""
    report_url = None
    if job.report_key:
        report_url = client("s3").generate_presigned_url(
            "get_object",
            Params={"Bucket": job.source_bucket, "Key": job.report_key},
            ExpiresIn=PRESIGNED_SECONDS,
        )
    return {
        "id": job.import_id,
        "directory_id": job.directory_id,
        "status": job.status,
        "filename": job.filename,
        "sheet": job.sheet,
        "phone_region": job.phone_region,
        "total_rows": int(job.total_rows),
        "created": int(job.created),
        "updated": int(job.updated),
        "skipped": int(job.skipped),
        "failed": int(job.failed),
        "warnings": int(job.warned),
        "errors": list(job.errors or []),
        "failure_reason": job.failure_reason,
        "report_url": report_url,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
    }
