"""The imports queue's workers: S3 events and continuations in, jobs advanced."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import logs
from chalicelib.imports import models
from chalicelib.imports.jobs import job_for_object
from chalicelib.imports.models import ImportRecord
from chalicelib.imports.pipeline import CONTINUE_IMPORT, run_import

log = logging.getLogger(__name__)


def s3_objects(message: dict[str, Any]) -> list[tuple[str, str, str, datetime]]:
    """(bucket, key, sequencer, event time) of each object an S3 event announces.

    Keys arrive URL-encoded (spaces as ``+``): decoded exactly once, so
    ``a%2Bb`` is ``a+b`` and ``100%25`` is ``100%``. S3's ``s3:TestEvent``
    (sent when a notification is configured) announces nothing.
    """
    if message.get("Event") == "s3:TestEvent":
        return []
    objects = []
    for record in message.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        when = str(record.get("eventTime") or "")
        try:
            event_time = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            event_time = datetime.now(UTC)
        objects.append(
            (
                s3["bucket"]["name"],
                unquote_plus(s3["object"]["key"]),
                str(s3["object"].get("sequencer") or s3["object"].get("eTag") or ""),
                event_time,
            )
        )
    return objects


def jobs_of(message: dict[str, Any]) -> list[ImportRecord]:
    """The jobs a message is about: a continuation names one, an S3 event makes them."""
    if message.get("kind") == CONTINUE_IMPORT:
        try:
            return [ImportRecord.get(message["owner_id"], message["import_id"])]
        except ImportRecord.DoesNotExist:
            log.error("continuation for a missing import %s", message.get("import_id"))
            return []
    jobs = []
    for bucket, key, sequencer, when in s3_objects(message):
        job = job_for_object(bucket, key, sequencer, when)
        if job is not None:
            jobs.append(job)
    return jobs


def handle_import_message(message: dict[str, Any], remaining_ms: Callable[[], int]) -> None:
    """Advance every job the message is about."""
    for job in jobs_of(message):
        logs.append_keys(import_id=job.import_id, directory_id=job.directory_id)
        run_import(job, remaining_ms)


def handle_dead_letter(message: dict[str, Any]) -> None:
    """A message that failed every retry: its unfinished jobs fail, saying so."""
    for job in jobs_of(message):
        if job.status in models.FINISHED:
            continue
        job.update(
            actions=[
                ImportRecord.status.set(models.FAILED),
                ImportRecord.failure_reason.set(
                    "The import stopped after repeated errors; rows counted so far were "
                    "imported. Upload the file again to finish it."
                ),
            ]
        )
        log.error("import %s failed after its retries ran out", job.import_id)
