"""The imports table: one job per imported file, keyed by owner."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import table_meta

PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
COMPLETED_WITH_ERRORS = "completed_with_errors"
FAILED = "failed"
FINISHED = (COMPLETED, COMPLETED_WITH_ERRORS, FAILED)

# The job item keeps the first errors; the CSV report in S3 has them all.
MAX_ERRORS_ON_JOB = 100


class ImportsByDirectory(LocalSecondaryIndex["ImportRecord"]):  # type: ignore[no-untyped-call]
    """A user's jobs for one directory, newest first (``<directory_id>#<import_id>``)."""

    class Meta:
        index_name = "by_directory"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    directory_import = UnicodeAttribute(range_key=True)


class ImportRecord(Model):
    """An import job: where the file is, how far it got, what happened to each row."""

    Meta = table_meta("imports")

    owner_id = UnicodeAttribute(hash_key=True)
    import_id = UnicodeAttribute(range_key=True)
    directory_id = UnicodeAttribute()
    directory_import = UnicodeAttribute()
    by_directory = ImportsByDirectory()

    status = UnicodeAttribute(default=PENDING)
    filename = UnicodeAttribute(default="")
    source_bucket = UnicodeAttribute()
    source_key = UnicodeAttribute()
    # Which write of the key the job imports: the S3 event's sequencer (an
    # API job takes the first event for its key), and the object's ETag once
    # a run has read it, so a later run never resumes on a replaced file.
    source_sequencer = UnicodeAttribute(null=True)
    source_etag = UnicodeAttribute(null=True)
    sheet = UnicodeAttribute(null=True)
    # The region of phones written without a country code (default: the configured one).
    phone_region = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    report_key = UnicodeAttribute(null=True)

    total_rows = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    warned = NumberAttribute(default=0)  # rows imported with a warning (the report says which)
    # Rows of the file consumed so far (blank ones too): where a run resumes.
    rows_done = NumberAttribute(default=0)
    errors = JSONAttribute(default=list)
    # Each run uploads its part of the report; the last run joins them.
    report_parts = NumberAttribute(default=0)

    # Until when a run owns the job (see pipeline.run_import).
    lease_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
