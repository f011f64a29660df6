"""The in-process AWS (moto) and app the request-counting benchmarks run against."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

BENCH_ENV = {
    "STAGE": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "JWT_SECRET": "bench-secret-bench-secret-bench-secret",
    "BCRYPT_ROUNDS": "4",
    "LOG_LEVEL": "WARNING",
}


@contextmanager
def mocked_app() -> Iterator[Any]:
    """A chalice test client on the app, every AWS call going to moto."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "JWT_SECRET_PARAMETER"):
        os.environ.pop(name, None)
    os.environ.update(BENCH_ENV)
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from local.bootstrap import create_all

        create_all()
        from app import app

        with Client(app, stage_name="bench", project_dir=str(ROOT)) as client:
            yield client


@contextmanager
def count_dynamodb() -> Iterator[Counter[str]]:
    """Count DynamoDB API calls made through PynamoDB, by operation."""
    from pynamodb.connection.base import Connection

    counts: Counter[str] = Counter()
    original = Connection._make_api_call

    def counting(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        counts[operation_name] += 1
        return original(self, operation_name, operation_kwargs)

    Connection._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        Connection._make_api_call = original  # type: ignore[method-assign]


def seed_directory(owner_id: str, directory_id: str, count: int) -> None:
    """Write ``count`` contacts straight into a directory (faster than the API)."""
    from chalicelib.contacts.models import ContactRecord, item_key_for, partition
    from chalicelib.db import utcnow
    from chalicelib.directories.models import DirectoryRecord
    from chalicelib.ids import new_id

    now = utcnow()
    with ContactRecord.batch_write() as batch:
        for n in range(count):
            email, contact_id = f"person{n}@example.com", new_id()
            batch.save(
                ContactRecord(
                    partition(owner_id, directory_id),
                    item_key_for(email, contact_id),
                    contact_id=contact_id,
                    directory_id=directory_id,
                    email=email,
                    first_name=f"Person {n}",
                    extra={"company": f"Firm {n % 97}"},
                    created_at=now,
                    updated_at=now,
                )
            )
    DirectoryRecord(owner_id, directory_id).update(
        actions=[DirectoryRecord.contact_count.set(count)]
    )
