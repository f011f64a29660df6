"""Create every AWS resource the app uses, idempotently, wherever boto3 points.

The local stack runs it against the moto server; the tests run it inside
``mock_aws``. Tables come from the PynamoDB models the code uses, queue and
bucket names from the same config, so nothing here can drift from the app.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aws import client
from chalicelib.config import QUEUES, settings

# Locally a failed message comes back after this many seconds, and moves to
# its dead-letter queue after MAX_RECEIVES. The pump gives each handler run
# a little less than its queue's visibility timeout, as a Lambda timeout.
VISIBILITY_TIMEOUT_SECONDS = 30
VISIBILITY_BY_QUEUE = {"imports": 180, "exports": 600}
MAX_RECEIVES = 5
# A throttled send comes back after a doubling backoff: ten receives give
# SES about an hour to recover before a delivery is failed.
RECEIVES_BY_QUEUE = {"deliveries": 10}


def create_all() -> dict[str, str]:
    """Create tables, queues, the bucket and its notification, and the SES sender.

    Returns the queue URLs by logical name.
    """
    create_tables()
    urls = create_queues()
    create_bucket(urls["imports"])
    verify_sender()
    return urls


def create_tables() -> None:
    from chalicelib.tables import ALL_MODELS, TTL_MODELS

    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
    for model in TTL_MODELS:
        model.update_ttl(ignore_update_ttl_errors=True)


def create_queues() -> dict[str, str]:
    sqs = client("sqs")
    cfg = settings()
    urls: dict[str, str] = {}
    for logical in QUEUES:
        dlq_url = sqs.create_queue(QueueName=cfg.queue_name(f"{logical}-dlq"))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes = {
            "VisibilityTimeout": str(VISIBILITY_BY_QUEUE.get(logical, VISIBILITY_TIMEOUT_SECONDS)),
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dlq_arn,
                    "maxReceiveCount": str(RECEIVES_BY_QUEUE.get(logical, MAX_RECEIVES)),
                }
            ),
        }
        urls[logical] = sqs.create_queue(QueueName=cfg.queue_name(logical), Attributes=attributes)[
            "QueueUrl"
        ]
        urls[f"{logical}-dlq"] = dlq_url
    return urls


def create_bucket(imports_queue_url: str) -> None:
    s3 = client("s3")
    bucket = settings().files_bucket
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    queue_arn = client("sqs").get_queue_attributes(
        QueueUrl=imports_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    notification: dict[str, Any] = {
        "QueueConfigurations": [
            {
                "Id": "imports",
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "imports/"}]}},
            }
        ]
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notification)


def verify_sender() -> None:
    # moto marks an identity verified as soon as it is created.
    client("ses").verify_email_identity(EmailAddress=settings().email_sender)
