"""The send handler: claim each delivery, render, send, record; never twice.

A message on the deliveries queue names a campaign and some contacts. Each
delivery is claimed with a conditional write (pending, or claimed by a run
whose lease ran out) before anything is sent, so a redelivered or
duplicated message finds it taken and sends nothing. Then:
- sent: recorded with the provider's id and time;
- refused for good (rejected, invalid address) or a template that fails
  for this contact: failed at once with the error, never retried;
- throttled or a transient fault: the claim is released and the message
  is reported failed, so SQS brings it back after a backoff set through its
  visibility timeout; one that runs out of receives goes to the dead-letter
  queue, whose handler fails what is left (see :func:`handle_dead_deliveries`).
A run that dies between claim and send leaves a claim whose lease expires:
the message comes back and the delivery is claimed again, not lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import logs
from chalicelib.campaigns import models, templates
from chalicelib.campaigns.models import CampaignRecord, DeliveryRecord
from chalicelib.campaigns.progress import record_outcomes
from chalicelib.channels import channel_for
from chalicelib.channels.base import OutgoingMessage, SendError
from chalicelib.config import settings
from chalicelib.db import condition_failed, utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 900
# A run with less time than this left claims nothing more: it counts what it
# did and lets the message come back, so a Lambda timeout never falls
# between recording a delivery and counting it.
STOP_WHEN_MS_LEFT = 10_000
MAX_ERROR_LENGTH = 1000


class ClaimedElsewhereError(Exception):
    """Another run holds a live claim on a delivery: this message must come back later."""


@dataclass
class Outcomes:
    """What one message's run did, for the campaign's counters and the batch's answer."""

    sent: int = 0
    failed: int = 0
    retry: bool = False


def process_deliveries(event: Any) -> dict[str, Any]:
    """Handle a batch from the deliveries queue; ``batchItemFailures`` names what must retry."""
    from chalicelib.events import remaining_ms

    time_left = remaining_ms(event.context)
    failures = []
    for record in event:
        raw = record.to_dict()
        logs.clear_keys()
        logs.append_keys(message_id=raw.get("messageId"))
        try:
            outcome = send_message(_parse(record.body), time_left)
        except Exception:
            log.exception("send message failed; it will be retried")
            outcome = Outcomes(retry=True)
        if outcome.retry:
            failures.append({"itemIdentifier": raw["messageId"]})
            _back_off(raw)
    logs.clear_keys()
    return {"batchItemFailures": failures}


def _parse(body: str) -> tuple[str, list[str]]:
    """The campaign and contacts a message names (one ``contact_id`` or ``contact_ids``)."""
    message = json.loads(body)
    if not isinstance(message, dict) or not isinstance(message.get("campaign_id"), str):
        raise ValueError("a send message is a JSON object with a campaign_id")
    ids = message.get("contact_ids", [message.get("contact_id")])
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ValueError("a send message names its contacts in contact_id or contact_ids")
    return message["campaign_id"], ids


def send_message(parsed: tuple[str, list[str]], time_left: Callable[[], int]) -> Outcomes:
    """Claim, send and record each delivery a message names; the counters move once at the end."""
    campaign_id, contact_ids = parsed
    logs.append_keys(campaign_id=campaign_id)
    outcomes = Outcomes()
    campaign: CampaignRecord | None = None
    owner_id = ""
    try:
        for contact_id in contact_ids:
            if time_left() < STOP_WHEN_MS_LEFT:
                outcomes.retry = True
                break
            try:
                delivery = _claim(campaign_id, contact_id)
            except ClaimedElsewhereError:
                outcomes.retry = True
                continue
            if delivery is None:
                continue
            owner_id = delivery.owner_id
            if campaign is None:
                campaign = CampaignRecord.get(owner_id, campaign_id)
            if not _send_one(campaign, delivery, outcomes):
                # Throttled or a provider fault: the next sends would fare the same.
                # The message comes back after its backoff for the rest.
                break
    finally:
        # Even when a run fails half-way, what it recorded is counted.
        if owner_id:
            record_outcomes(owner_id, campaign_id, sent=outcomes.sent, failed=outcomes.failed)
    return outcomes


def _send_one(campaign: CampaignRecord, delivery: DeliveryRecord, outcomes: Outcomes) -> bool:
    """Send one claimed delivery and record it; False if the provider asks to back off.

    Throttling is account-wide: after one throttled send the rest of the
    message waits for the retry rather than hammer the provider.
    """
    try:
        message = OutgoingMessage(
            to=str(delivery.destination),
            subject=templates.render_subject(campaign.subject, delivery.fields)
            if campaign.channel == "email"
            else "",
            text=templates.render(campaign.body, delivery.fields),
        )
    except templates.RenderError as exc:
        outcomes.failed += _finish(delivery, models.DELIVERY_FAILED, error=f"Template: {exc}")
        return True
    try:
        provider_id = channel_for(campaign.channel).send(message)
    except SendError as exc:
        if exc.retryable:
            _release(delivery, str(exc))
            outcomes.retry = True
            return False
        outcomes.failed += _finish(delivery, models.DELIVERY_FAILED, error=str(exc))
        return True
    except Exception as exc:
        # An error no adapter classified: give the claim back and retry later;
        # the dead-letter queue ends it if it never goes away.
        # It may be about this message alone, so the others still go.
        log.exception("unexpected error sending delivery %s", delivery.contact_id)
        _release(delivery, f"{type(exc).__name__}: {exc}")
        outcomes.retry = True
        return True
    outcomes.sent += _finish(delivery, models.SENT, provider_id=provider_id)
    return True


def _claim(campaign_id: str, contact_id: str) -> DeliveryRecord | None:
    """The delivery, now ours to send; ``None`` if it is finished or unknown."""
    now = utcnow()
    lease = now + timedelta(seconds=settings().delivery_lease_seconds)
    delivery = DeliveryRecord(campaign_id, contact_id)
    try:
        delivery.update(
            actions=[
                DeliveryRecord.status.set(models.CLAIMED),
                DeliveryRecord.claimed_until.set(lease),
                DeliveryRecord.attempts.add(1),
            ],
            condition=DeliveryRecord.contact_id.exists()
            & (
                (DeliveryRecord.status == models.PENDING)
                | ((DeliveryRecord.status == models.CLAIMED) & (DeliveryRecord.claimed_until < now))
            ),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        _check_unclaimable(campaign_id, contact_id)
        return None
    return delivery


def _check_unclaimable(campaign_id: str, contact_id: str) -> None:
    """Raise :class:`ClaimedElsewhereError` if another run's claim is live, else log a stray."""
    try:
        existing = DeliveryRecord.get(campaign_id, contact_id, consistent_read=True)
    except DeliveryRecord.DoesNotExist:
        log.error("send message names a delivery that does not exist: %s", contact_id)
        return
    if existing.status == models.CLAIMED:
        raise ClaimedElsewhereError(contact_id)


def _finish(
    delivery: DeliveryRecord,
    status: str,
    *,
    error: str | None = None,
    provider_id: str | None = None,
) -> int:
    """Record a claimed delivery's outcome; 1 if recorded, 0 if our claim was lost meanwhile."""
    now = utcnow()
    actions: list[Any] = [DeliveryRecord.status.set(status), DeliveryRecord.claimed_until.remove()]
    if status == models.SENT:
        actions += [
            DeliveryRecord.sent_at.set(now),
            DeliveryRecord.provider_message_id.set(provider_id or ""),
            DeliveryRecord.error.remove(),
        ]
    else:
        actions.append(DeliveryRecord.error.set((error or "")[:MAX_ERROR_LENGTH]))
    try:
        delivery.update(actions=actions, condition=DeliveryRecord.status == models.CLAIMED)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        log.warning("delivery %s was finished by another run", delivery.contact_id)
        return 0
    return 1


def _release(delivery: DeliveryRecord, error: str) -> None:
    """Give a claim back so the retried message can take it at once."""
    try:
        delivery.update(
            actions=[
                DeliveryRecord.status.set(models.PENDING),
                DeliveryRecord.claimed_until.remove(),
                DeliveryRecord.error.set(error[:MAX_ERROR_LENGTH]),
            ],
            condition=DeliveryRecord.status == models.CLAIMED,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _back_off(raw: dict[str, Any]) -> None:
    """Keep a failed message away for base * 2^(receives - 1) seconds (SQS visibility)."""
    from chalicelib.aws import client
    from chalicelib.queues import queue_url

    receives = int(raw.get("attributes", {}).get("ApproximateReceiveCount") or 1)
    delay = min(MAX_BACKOFF_SECONDS, settings().send_retry_base_seconds * 2 ** (receives - 1))
    try:
        client("sqs").change_message_visibility(
            QueueUrl=queue_url("deliveries"),
            ReceiptHandle=raw["receiptHandle"],
            VisibilityTimeout=delay,
        )
    except Exception:
        # Without it the message still comes back, after the queue's own timeout.
        log.warning("could not set the retry delay of message %s", raw.get("messageId"))


def handle_dead_deliveries(message: dict[str, Any]) -> None:
    """A send message that ran out of retries: its unfinished deliveries fail, saying why."""
    try:
        campaign_id, contact_ids = _parse(json.dumps(message))
    except ValueError:
        # Nothing can ever be done with it; a dead letter is not retried for ever.
        log.error("dropping a dead send message that names no deliveries")
        return
    logs.append_keys(campaign_id=campaign_id)
    failed = 0
    owner_id = ""
    for contact_id in contact_ids:
        try:
            delivery = DeliveryRecord.get(campaign_id, contact_id, consistent_read=True)
        except DeliveryRecord.DoesNotExist:
            continue
        if delivery.status not in (models.PENDING, models.CLAIMED):
            continue
        owner_id = delivery.owner_id
        reason = (
            f"Not sent after {int(delivery.attempts)} attempts: {delivery.error or 'no answer'}"
        )
        try:
            delivery.update(
                actions=[
                    DeliveryRecord.status.set(models.DELIVERY_FAILED),
                    DeliveryRecord.claimed_until.remove(),
                    DeliveryRecord.error.set(reason[:MAX_ERROR_LENGTH]),
                ],
                condition=DeliveryRecord.status.is_in(models.PENDING, models.CLAIMED),
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            continue
        failed += 1
    if owner_id:
        record_outcomes(owner_id, campaign_id, sent=0, failed=failed)
    log.error("%d deliveries of campaign %s failed after their retries", failed, campaign_id)
