"""C21: SQS redelivers a message and sends a duplicate; one is poison.

One send per (campaign, contact) over both batches, and only the poison
message reported in ``batchItemFailures``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.conftest import CASES, sent_emails

CASE = json.loads((CASES / "C21_sqs_events.json").read_text())


def seed_campaign(records: list[dict[str, Any]]) -> None:
    """Campaign ``cmp-7`` fanned out, with one pending delivery per contact the case names."""
    from chalicelib.campaigns import models
    from chalicelib.db import utcnow

    now = utcnow()
    messages = {}
    for record in records:
        try:
            body = json.loads(record["body"])
        except ValueError:
            continue
        if isinstance(body, dict):
            messages[body["contact_id"]] = body
    models.CampaignRecord(
        "owner-1",
        "cmp-7",
        name="C21",
        channel="email",
        subject="Hello {{ first_name }}",
        body="Hi {{ first_name }}",
        directory_id="dir-1",
        status=models.SENDING,
        total=len(messages),
        pending=len(messages),
        fanned_out=True,
        created_at=now,
        updated_at=now,
    ).save()
    for contact_id, body in messages.items():
        models.DeliveryRecord(
            "cmp-7",
            contact_id,
            owner_id="owner-1",
            directory_id="dir-1",
            channel="email",
            destination=body["to"],
            fields={"first_name": contact_id, "extra": {}},
            created_at=now,
        ).save()


@pytest.mark.usefixtures("aws")
def test_c21_redelivery_and_a_poison_message_send_once_and_report_only_the_poison() -> None:
    from app import send_deliveries

    batches = [CASE[name] for name in CASE["deliver_in_order"]]
    seed_campaign([r for batch in batches for r in batch["Records"]])
    responses = [send_deliveries(batch, None) for batch in batches]

    expected = CASE["expected"]
    assert responses == [expected["batch_a_response"], expected["batch_b_response"]]
    sends = Counter(to for email in sent_emails() for to in email.to)
    recipients = {"c-001": "zoe.martin@example.com", "c-003": "wei.li@example.org"}
    assert {
        f"cmp-7/{contact}": sends[address] for contact, address in recipients.items()
    } == expected["ses_send_calls"]
    assert sum(sends.values()) == sum(expected["ses_send_calls"].values())

    from chalicelib.campaigns.models import CampaignRecord

    campaign = CampaignRecord.get("owner-1", "cmp-7")
    assert (campaign.status, int(campaign.sent), int(campaign.pending)) == ("completed", 2, 0)
