"""A 10,000-contact email campaign: time to completed, the queue call, AWS requests per delivery.

Runs on the in-process moto of :mod:`bench.environment`, with the queue
pump's own function (``local.pump.pump_once``) playing Lambda's event
source mapping, all in one process. That is the local stack minus its
process boundaries: every AWS request the handlers make goes through one
botocore, where it is counted by service and operation; on the local stack
the handlers run in the pump's process, out of the benchmark's reach.

Figures:
- the queue call's latency on the 10,000-contact directory against a
  10-contact one in the same run (the claim: independent of size);
- seconds from the queue call to ``completed``, against a baseline in the
  same run: the bare requests every delivery needs at least (one SES send,
  one DynamoDB write) issued in a plain loop on the same moto;
- requests per 1,000 deliveries by service, made by the handlers, and the
  SQS receives and deletes of the event source mapping on top, each
  against its floor.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CONTACTS = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS", "10000"))
RUNS = int(os.environ.get("BENCH_CAMPAIGN_RUNS", "1"))
QUEUE_CALLS = 15
TARGET_QUEUE_MS = 100
TARGET_DYNAMODB_WRITES = 3.0
TARGET_SQS = 0.2
TARGET_SES = 1.0
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
# Requests Lambda's event source mapping makes, not the handlers.
_EVENT_SOURCE = {"ReceiveMessage", "DeleteMessageBatch", "DeleteMessage"}


@contextmanager
def count_requests() -> Iterator[Counter[tuple[str, str]]]:
    """Count every AWS request made through botocore, by (service, operation)."""
    from botocore.client import BaseClient

    counts: Counter[tuple[str, str]] = Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        counts[(self.meta.service_model.service_name, operation_name)] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _call(client: Any, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = client.http.request(
        method, path, headers=headers, body=json.dumps(body) if body is not None else None
    )
    return response.status_code, json.loads(response.body) if response.body else None


def _campaign(client: Any, token: str, directory: str) -> str:
    status, body = _call(
        client,
        "POST",
        "/api/campaigns/campaigns",
        token,
        {
            "name": "bench",
            "channel": "email",
            "subject": "News for {{ first_name }}",
            "body": "Hello {{ first_name }} of {{ extra.company }}",
            "directory": directory,
        },
    )
    assert status == 201, body
    return str(body["id"])


def _queue_ms(client: Any, token: str, directory: str) -> list[float]:
    timings = []
    for _ in range(QUEUE_CALLS):
        campaign = _campaign(client, token, directory)
        started = time.perf_counter()
        status, body = _call(client, "POST", f"/api/campaigns/campaigns/{campaign}/queue", token)
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 202, body
    return timings


def _pump_until_done(client: Any, token: str, campaign: str) -> dict[str, Any]:
    import app as app_module
    from chalicelib.aws import client as aws_client
    from local.pump import pump_once, sources

    sqs = aws_client("sqs")
    feeds = []
    for source in sources(app_module):
        if source.name not in ("fan_out_campaign", "send_deliveries"):
            continue
        url = sqs.get_queue_url(QueueName=source.queue_name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        feeds.append((source, url, arn))
    while True:
        seen = sum(pump_once(sqs, s, u, a, wait=0, timeout_seconds=900) for s, u, a in feeds)
        if not seen:
            _status, body = _call(client, "GET", f"/api/campaigns/campaigns/{campaign}", token)
            return dict(body)


def _baseline_s(count: int) -> float:
    """A plain loop of what each delivery needs at least: one SES send, one DynamoDB write."""
    from chalicelib.campaigns.models import DeliveryRecord
    from chalicelib.channels.email import send_email
    from chalicelib.db import utcnow

    started = time.perf_counter()
    for n in range(count):
        send_email(f"person{n}@example.com", "News", "Hello")
        DeliveryRecord(
            "baseline", str(n), owner_id="o", directory_id="d", channel="email", created_at=utcnow()
        ).save()
    return time.perf_counter() - started


def measure() -> dict[str, Any]:
    """One full run in this process; returns the figures."""
    from bench.environment import mocked_app, seed_directory

    os.environ["ECHO_MESSAGES"] = "0"
    with mocked_app() as client:
        account = {"email": "bench@example.com", "username": "bench", "password": "bench pass 123"}
        _call(client, "POST", "/api/accounts/register", None, account)
        token = _call(client, "POST", "/api/accounts/login", None, account)[1]["access"]
        _status, user = _call(client, "GET", "/api/accounts/me", token)
        big = _call(client, "POST", "/api/directory/directories", token, {"name": "big"})[1]["id"]
        small = _call(client, "POST", "/api/directory/directories", token, {"name": "small"})[1]
        seed_directory(user["id"], big, CONTACTS)
        seed_directory(user["id"], small["id"], 10)
        queue_small = _queue_ms(client, token, small["id"])
        queue_big = _queue_ms(client, token, big)
        from chalicelib.aws import client as aws_client
        from chalicelib.queues import queue_url

        # The fan-outs those campaigns started are not what is measured.
        aws_client("sqs").purge_queue(QueueUrl=queue_url("campaigns"))
        campaign = _campaign(client, token, big)
        with count_requests() as counts:
            started = time.perf_counter()
            _call(client, "POST", f"/api/campaigns/campaigns/{campaign}/queue", token)
            done = _pump_until_done(client, token, campaign)
            elapsed = time.perf_counter() - started
        baseline = _baseline_s(min(CONTACTS, 2000)) * CONTACTS / min(CONTACTS, 2000)
    return {
        "contacts": CONTACTS,
        "status": done["status"],
        "stats": done["stats"],
        "seconds": elapsed,
        "baseline_seconds": baseline,
        "queue_ms_small": queue_small,
        "queue_ms_big": queue_big,
        "counts": [[service, op, n] for (service, op), n in counts.items()],
    }


def report(result: dict[str, Any]) -> None:
    per_k = 1000 / max(1, result["stats"]["sent"])
    by: Counter[str] = Counter()
    for service, op, n in result["counts"]:
        if service == "dynamodb":
            by["dynamodb writes" if op in _WRITES else "dynamodb reads"] += n
        elif service == "sqs":
            by["sqs (event source)" if op in _EVENT_SOURCE else "sqs (handlers)"] += n
        else:
            by[service] += n
    small, big = result["queue_ms_small"], result["queue_ms_big"]
    writes = by["dynamodb writes"] * per_k / 1000
    sqs = (by["sqs (handlers)"] + by["sqs (event source)"]) * per_k / 1000
    ses = by["sesv2"] * per_k / 1000
    print(
        f"campaign: {result['contacts']:,} contacts -> {result['status']} {result['stats']} in "
        f"{result['seconds']:.1f} s on moto, {result['seconds'] / result['baseline_seconds']:.2f}x "
        f"a bare loop of one SES send + one DynamoDB write per contact "
        f"({result['baseline_seconds']:.1f} s)"
    )
    print(
        f"  queue call: median {statistics.median(big):.1f} ms (max {max(big):.1f}) on "
        f"{result['contacts']:,} contacts vs {statistics.median(small):.1f} ms on 10 "
        f"(ratio {statistics.median(big) / statistics.median(small):.2f}; target < "
        f"{TARGET_QUEUE_MS} ms: {'ok' if max(big) < TARGET_QUEUE_MS else 'OVER'})"
    )
    print(
        "  requests per 1,000 deliveries: "
        + ", ".join(f"{name} {n * per_k:.0f}" for name, n in sorted(by.items()))
    )
    ops = sorted(result["counts"], key=lambda item: -item[2])
    print(
        "  by operation per 1,000: "
        + ", ".join(f"{service}.{op} {n * per_k:.1f}" for service, op, n in ops)
    )
    print(
        f"  per delivery vs target (floor): DynamoDB writes {writes:.2f} vs <= "
        f"{TARGET_DYNAMODB_WRITES} (floor 2: a claim and a result, each conditional), "
        f"SQS {sqs:.3f} vs <= {TARGET_SQS} (floor ~0.012: one send, receive and delete per "
        f"250), SES {ses:.2f} vs <= {TARGET_SES} (floor 1: one personalised email each); "
        + (
            "ok"
            if writes <= TARGET_DYNAMODB_WRITES and sqs <= TARGET_SQS and ses <= TARGET_SES
            else "OVER"
        )
    )


def run() -> None:
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-m", "bench.campaigns", "--child"],
            check=True,
            capture_output=True,
            text=True,
        )
        report(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(measure()))
    else:
        run()
