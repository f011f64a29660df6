"""The queue pump: what Lambda's SQS event source mapping does, on one machine.

For every ``@app.on_sqs_message`` handler of the Chalice app, a thread
long-polls its queue (the imports queue gets ``CRM_PUMP_WORKERS`` of them,
default 4, as Lambda runs batches side by side: one user's big import never
holds up another's), invokes the handler with a real-shaped SQS event, then
deletes the messages that succeeded. The other queues keep one thread:
moto's conditional writes are not atomic across threads, and they are what
keeps one send per delivery. A handler that raises leaves the whole
batch; one that returns ``batchItemFailures`` leaves just those messages.
Left messages come back after the visibility timeout and, after the
queue's ``maxReceiveCount``, move to its dead-letter queue, as on AWS.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("local.pump")

WORKERS = 4  # import batches handled at once


@dataclass
class FakeLambdaContext:
    """The parts of Lambda's context object handlers may read."""

    function_name: str
    aws_request_id: str
    deadline: float
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Source:
    """One SQS-triggered handler and the queue feeding it."""

    name: str
    queue_name: str
    batch_size: int
    handler: Any


def sources(app_module: Any) -> list[Source]:
    """The SQS event sources of the Chalice app in ``app_module``."""
    found = []
    for config in app_module.app.event_sources:
        queue = getattr(config, "queue", None)
        if queue is None:
            continue
        found.append(
            Source(
                name=config.name,
                queue_name=queue,
                batch_size=min(int(config.batch_size or 10), 10),
                handler=getattr(app_module, config.name),
            )
        )
    return found


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda would pass for ``messages`` received from the queue."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def pump_once(
    sqs: Any,
    source: Source,
    queue_url: str,
    queue_arn: str,
    wait: int = 2,
    timeout_seconds: float = 25,
) -> int:
    """Receive one batch, invoke the handler, delete what succeeded; returns messages seen."""
    received = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=source.batch_size,
        WaitTimeSeconds=wait,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    if not received:
        return 0
    event = sqs_event(received, queue_arn, sqs.meta.region_name)
    deadline = time.monotonic() + timeout_seconds
    context = FakeLambdaContext(source.name, str(uuid.uuid4()), deadline)
    try:
        result = source.handler(event, context)
    except Exception:
        log.exception("handler %s raised; %d messages left for retry", source.name, len(received))
        return len(received)
    failed = {
        item.get("itemIdentifier")
        for item in (result or {}).get("batchItemFailures", [])
        if isinstance(item, dict)
    }
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ],
        )
    if failed:
        log.warning("handler %s failed %d of %d messages", source.name, len(failed), len(received))
    return len(received)


def run_forever(sqs: Any, source: Source, stop: threading.Event) -> None:
    queue_url = sqs.get_queue_url(QueueName=source.queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn", "VisibilityTimeout"]
    )["Attributes"]
    # A run must end before its message becomes visible again.
    timeout = max(5.0, float(attributes["VisibilityTimeout"]) - 5)
    while not stop.is_set():
        try:
            pump_once(sqs, source, queue_url, attributes["QueueArn"], timeout_seconds=timeout)
        except Exception:
            # The embedded AWS may be shutting down; do not spin.
            log.exception("pump for %s could not poll", source.queue_name)
            stop.wait(1)


def main() -> None:
    """Pump every queue of the app until interrupted."""
    import app as app_module
    from chalicelib.aws import client

    logging.basicConfig(level=logging.INFO, format="[pump] %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("pynamodb").setLevel(logging.WARNING)
    stop = threading.Event()
    threads = []
    sqs = client("sqs")  # boto3 clients are thread-safe
    import_workers = max(1, int(os.environ.get("CRM_PUMP_WORKERS", str(WORKERS))))
    for source in sources(app_module):
        workers = import_workers if source.name == "import_contacts" else 1
        for number in range(workers):
            thread = threading.Thread(
                target=run_forever,
                args=(sqs, source, stop),
                name=f"{source.name}-{number}",
                daemon=True,
            )
            thread.start()
            threads.append(thread)
        log.info("pumping %s -> %s (%d workers)", source.queue_name, source.name, workers)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
