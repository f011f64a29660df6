"""SQS batches with partial failure, as Lambda's event source mapping expects.

Each record is handled on its own; the handler returns ``batchItemFailures``
naming exactly the records that raised, so SQS redelivers those (and, after
``maxReceiveCount``, moves them to the dead-letter queue) and nothing else.
The merge template sets ``ReportBatchItemFailures`` on every SQS source.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from chalicelib import logs

log = logging.getLogger(__name__)


def process_batch(event: Any, handle: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Run ``handle`` on each message body (parsed JSON) of a Chalice ``SQSEvent``."""
    failures = []
    for record in event:
        logs.clear_keys()
        logs.append_keys(message_id=record.to_dict().get("messageId"))
        try:
            body = json.loads(record.body)
            if not isinstance(body, dict):
                raise ValueError("message body is not a JSON object")
            handle(body)
        except Exception:
            log.exception("message failed; it will be retried")
            failures.append({"itemIdentifier": record.to_dict()["messageId"]})
    logs.clear_keys()
    return {"batchItemFailures": failures}


def remaining_ms(context: Any) -> Callable[[], int]:
    """How long the Lambda run has left, in ms (no limit outside Lambda)."""
    method = getattr(context, "get_remaining_time_in_millis", None)
    if method is None:
        return lambda: 15 * 60 * 1000
    return lambda: int(method())
