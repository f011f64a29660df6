"""Sending to the app's SQS queues by logical name."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from chalicelib.aws import client
from chalicelib.config import settings


@cache
def queue_url(logical: str) -> str:
    """The URL of the queue named ``logical`` (``notifications`` …), looked up once."""
    url: str = client("sqs").get_queue_url(QueueName=settings().queue_name(logical))["QueueUrl"]
    return url


def send(logical: str, message: dict[str, Any], delay_seconds: int = 0) -> None:
    """Put one JSON message on the queue named ``logical``, seen after ``delay_seconds``."""
    client("sqs").send_message(
        QueueUrl=queue_url(logical), MessageBody=json.dumps(message), DelaySeconds=delay_seconds
    )
