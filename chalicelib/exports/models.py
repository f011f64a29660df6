"""The exports table: one job per export written to S3, keyed by owner."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.db import table_meta

PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
FINISHED = (COMPLETED, FAILED)


class ExportRecord(Model):
    """An export job; the file sits in the files bucket under ``object_key`` once completed."""

    Meta = table_meta("exports")

    owner_id = UnicodeAttribute(hash_key=True)
    export_id = UnicodeAttribute(range_key=True)
    directory_id = UnicodeAttribute()
    format = UnicodeAttribute()
    status = UnicodeAttribute(default=PENDING)
    filename = UnicodeAttribute()
    object_key = UnicodeAttribute()
    row_count = NumberAttribute(default=0)
    size_bytes = NumberAttribute(default=0)
    failure_reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    # Jobs (and, by the bucket's lifecycle rule, their files) go after a week.
    expires_at = TTLAttribute()
