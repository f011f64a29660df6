"""What every PynamoDB model shares: where its table is and how it is billed.

PynamoDB reads ``Meta`` when a model class is built, so the settings must be
in the environment before the models are imported (tests set them first).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import PynamoDBException

from chalicelib.config import settings


def table_meta(logical: str) -> Any:
    """A ``Meta`` class for the table named ``logical`` in the current stage."""
    cfg = settings()

    class Meta:
        # The logical name lets the deploy template set <LOGICAL>_TABLE.
        logical_name = logical
        table_name = cfg.table_name(logical)
        region = cfg.region
        host = cfg.endpoint_url
        billing_mode = PAY_PER_REQUEST_BILLING_MODE
        # Lambda reuses connections across invocations; a short timeout turns
        # a stuck request into a retry instead of a hung function.
        connect_timeout_seconds = 5
        read_timeout_seconds = 10

    return Meta


@lru_cache(maxsize=1)
def connection() -> Connection:
    """A low-level connection for transactions, at the models' endpoint."""
    cfg = settings()
    return Connection(region=cfg.region, host=cfg.endpoint_url)


def utcnow() -> datetime:
    """Now, timezone-aware, as every stored time is."""
    return datetime.now(UTC)


# How DynamoDB names a failed condition: as the error of a single write, and
# as a cancellation reason of one item in a transaction.
CONDITION_FAILED = "ConditionalCheckFailedException"
CONDITION_FAILED_REASON = "ConditionalCheckFailed"


def condition_failed(exc: PynamoDBException) -> bool:
    """Whether a write failed on its condition (not on throttling or anything else)."""
    return exc.cause_response_code == CONDITION_FAILED


def iso(value: datetime) -> str:
    """A stored time as the API shows it: ISO 8601 in UTC with a ``Z``."""
    return value.isoformat().replace("+00:00", "Z")
