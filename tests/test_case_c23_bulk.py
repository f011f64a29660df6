"""C23: 1,500 rows with writes coming back throttled: retried, or reported — never lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CASES, User
from tests.imports_helpers import drop_file, finish_imports

EXPECTED = json.loads((CASES / "C23_expected.json").read_text())
BULK = (CASES / "C23_bulk_1500.csv").read_bytes()


@pytest.fixture
def flaky_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """The case's fault: 10% of each 25-item BatchWriteItem comes back unprocessed.

    Each item is refused on its first ``fail_first`` tries; backoff sleeps are skipped.
    """
    from botocore.client import BaseClient

    from chalicelib.imports import writer

    monkeypatch.setattr(writer, "pause", lambda seconds: None)
    original = BaseClient._make_api_call
    stats = {"requests": 0, "unprocessed": 0, "fail_first": 3}
    tries: dict[str, int] = {}

    def flaky(self: BaseClient, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation != "BatchWriteItem":
            return original(self, operation, kwargs)
        stats["requests"] += 1
        ((table, requests),) = kwargs["RequestItems"].items()
        refused = []
        for request in requests[: max(1, len(requests) // 10)]:
            key = json.dumps(request["PutRequest"]["Item"]["item_key"])
            tries[key] = tries.get(key, 0) + 1
            if tries[key] <= stats["fail_first"]:
                refused.append(request)
        accepted = [r for r in requests if r not in refused]
        response = (
            original(self, operation, {"RequestItems": {table: accepted}}) if accepted else {}
        )
        stats["unprocessed"] += len(refused)
        response["UnprocessedItems"] = {table: refused} if refused else {}
        return response

    monkeypatch.setattr(BaseClient, "_make_api_call", flaky)
    yield stats


def test_c23_every_row_written_despite_throttling(ana: User, flaky_writes: dict[str, int]) -> None:
    from chalicelib.contacts.models import ContactRecord, partition

    directory = ana.new_directory("Bulk")
    drop_file(directory, "C23_bulk_1500.csv", BULK)
    (job,) = finish_imports(ana, directory)
    assert (job["status"], job["total_rows"], job["created"]) == (
        "completed",
        EXPECTED["rows"],
        EXPECTED["rows"],
    ), job
    stored = ContactRecord.query(partition(ana.id, directory))
    assert sum(1 for _ in stored) == EXPECTED["expected_items_in_table"]
    assert ana.get(f"/api/directory/directories/{directory}")[1]["contact_count"] == 1500
    assert flaky_writes["unprocessed"] >= 60 * 3  # 2 of each of the 60 requests, 3 times
    # 60 requests of 25, plus a retry of each for its refused items, 3 times.
    assert flaky_writes["requests"] == 60 * 4


def test_c23_when_retries_run_out_the_job_lists_what_was_not_written(
    ana: User, flaky_writes: dict[str, int]
) -> None:
    flaky_writes["fail_first"] = 10**9  # those items are never accepted
    directory = ana.new_directory("Bulk")
    drop_file(directory, "C23_bulk_1500.csv", BULK)
    (job,) = finish_imports(ana, directory)
    assert job["status"] == "completed_with_errors"
    assert (job["created"], job["failed"]) == (1440, 60)  # the first 10% of each batch
    assert job["errors"][0] == {
        "row": 2,
        "field": "email",
        "message": "Not written (batch0001@example.test): the database stayed busy after 6 "
        "attempts. Import the file again to add it.",
    }
    assert ana.get(f"/api/directory/directories/{directory}")[1]["contact_count"] == 1440


@pytest.fixture
def flaky_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """BatchGetItem answers only the first half of each request's keys, the rest unprocessed."""
    from botocore.client import BaseClient

    from chalicelib.imports import writer

    monkeypatch.setattr(writer, "pause", lambda seconds: None)
    original = BaseClient._make_api_call
    stats = {"requests": 0, "unprocessed": 0}

    def flaky(self: BaseClient, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation != "BatchGetItem":
            return original(self, operation, kwargs)
        stats["requests"] += 1
        ((table, request),) = kwargs["RequestItems"].items()
        keys = request["Keys"]
        answered, left = keys[: (len(keys) + 1) // 2], keys[(len(keys) + 1) // 2 :]
        response = original(
            self, operation, {"RequestItems": {table: {**request, "Keys": answered}}}
        )
        stats["unprocessed"] += len(left)
        response["UnprocessedKeys"] = {table: {**request, "Keys": left}} if left else {}
        return response

    monkeypatch.setattr(BaseClient, "_make_api_call", flaky)
    yield stats


def test_reimport_finds_every_existing_contact_when_reads_come_back_unprocessed(
    ana: User, flaky_reads: dict[str, int]
) -> None:
    directory = ana.new_directory("Bulk")
    drop_file(directory, "C23_bulk_1500.csv", BULK)
    drop_file(directory, "C23_bulk_1500 (again).csv", BULK)
    first, second = sorted(finish_imports(ana, directory), key=lambda job: job["created"])
    assert first["created"] == 0  # the second run: every row already there
    assert (second["created"], second["status"]) == (1500, "completed")
    assert (first["skipped"], first["failed"], first["status"]) == (1500, 0, "completed")
    assert flaky_reads["unprocessed"] > 0
    assert ana.get(f"/api/directory/directories/{directory}")[1]["contact_count"] == 1500
