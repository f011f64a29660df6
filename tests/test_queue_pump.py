"""The local queue pump behaves like Lambda's SQS event source mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.pump import Source, pump_once


@pytest.fixture
def queue(aws: None) -> tuple[Any, str, str, str]:
    """A queue that redelivers at once and moves a message to its DLQ after 3 receives."""
    from chalicelib.aws import client

    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="pump-test-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="pump-test",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return sqs, url, arn, dlq


def send(sqs: Any, url: str, *bodies: str) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def remaining(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_successful_batch_is_deleted(queue: tuple[Any, str, str, str]) -> None:
    sqs, url, arn, _ = queue
    send(sqs, url, "a", "b")
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend(event["Records"])
        assert context.get_remaining_time_in_millis() > 0
        return {"batchItemFailures": []}

    assert pump_once(sqs, Source("h", "pump-test", 10, handler), url, arn, wait=0) == 2
    assert sorted(r["body"] for r in seen) == ["a", "b"]
    record = seen[0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert remaining(sqs, url) == []


def test_only_reported_failures_stay(queue: tuple[Any, str, str, str]) -> None:
    sqs, url, arn, _ = queue
    send(sqs, url, "good", "bad")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}

    pump_once(sqs, Source("h", "pump-test", 10, handler), url, arn, wait=0)
    assert remaining(sqs, url) == ["bad"]


def test_a_raising_handler_leaves_the_batch_then_the_dlq_takes_it(
    queue: tuple[Any, str, str, str],
) -> None:
    sqs, url, arn, dlq = queue
    send(sqs, url, "poison")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    source = Source("h", "pump-test", 10, handler)
    for _ in range(3):
        assert pump_once(sqs, source, url, arn, wait=0) == 1
    assert pump_once(sqs, source, url, arn, wait=0) == 0
    assert remaining(sqs, dlq) == ["poison"]


def test_pump_finds_the_apps_sqs_handlers(aws: None) -> None:
    import app as app_module
    from chalicelib.config import settings
    from local.pump import sources

    found = {s.queue_name: s.name for s in sources(app_module)}
    assert found[settings().queue_name("notifications")] == "send_notifications"


def test_notifications_handler_reports_only_the_bad_message(aws: None) -> None:
    from app import send_notifications
    from local.pump import sqs_event

    messages = [
        {"MessageId": "ok", "ReceiptHandle": "r1", "Body": json.dumps({"kind": "unknown"})},
        {"MessageId": "broken", "ReceiptHandle": "r2", "Body": "{not json"},
    ]
    result = send_notifications(sqs_event(messages, "arn:aws:sqs:us-east-1:1:q", "us-east-1"), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
