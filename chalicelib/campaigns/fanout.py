"""The fan-out: a campaign's directory, page by page, into deliveries and send messages.

One message on the campaigns queue names a page; its run writes one
delivery per contact of the page (pending, or skipped with a reason), puts
the pending ones on the deliveries queue, moves the campaign's counters
and progress in one conditional update, then queues the next page.

Every step may run twice (SQS redelivers; a run may die anywhere):
- a run first takes a lease on its page (a conditional update of the
  campaign), so two copies of a message never work on one page at once;
- deliveries an earlier run wrote are read back and kept as they are, so a
  rerun never resets one that is being sent or sent; the new ones are
  written 25 to a request (no condition needed under the lease);
- the counters move in the same conditional update that advances the page
  number, so each page is counted once, from what its deliveries say;
- the send messages go out before that update, and duplicates are harmless
  (each delivery is claimed before it is sent);
- the next page is queued after the update: a rerun of a page already
  counted queues it again, in case the first run died in between.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import logs
from chalicelib.aws import client
from chalicelib.campaigns import models
from chalicelib.campaigns.models import AddressRecord, CampaignRecord, DeliveryRecord
from chalicelib.campaigns.progress import fail_campaign, finish_if_done
from chalicelib.campaigns.service import FAN_OUT_PAGE
from chalicelib.campaigns.templates import contact_fields
from chalicelib.contacts.models import ContactRecord, partition
from chalicelib.db import condition_failed, utcnow
from chalicelib.directories.models import DirectoryRecord
from chalicelib.queues import queue_url

log = logging.getLogger(__name__)

PAGE_SIZE = 250
# A page's run takes a few seconds; a dead run's lease frees the page after this.
LEASE_SECONDS = 60
# Contacts per message on the deliveries queue, and messages per SQS call:
# 250 deliveries ride on one SendMessageBatch.
DELIVERIES_PER_MESSAGE = 25
MESSAGES_PER_BATCH = 10
_BLOCKING = ("unsubscribed", "bounced", "complained")


def handle_fan_out(message: dict[str, Any]) -> None:
    """Do the page of the campaign the message names (once, however often it comes)."""
    if message.get("kind") != FAN_OUT_PAGE:
        log.error("dropping campaigns message of unknown kind %r", message.get("kind"))
        return
    campaign = _campaign(message)
    if campaign is None:
        return
    logs.append_keys(campaign_id=campaign.campaign_id)
    page = int(message["page"])
    done_pages = int(campaign.fanout_pages)
    if campaign.status not in (models.QUEUED, models.SENDING):
        log.info("campaign is %s; fan-out page %d not needed", campaign.status, page)
        return
    if page < done_pages:
        if page == done_pages - 1 and not campaign.fanned_out:
            _queue_page(campaign, done_pages)  # the run that counted it may have died here
        return
    if page > done_pages:
        raise RuntimeError(f"fan-out page {page} came before page {done_pages} was done")
    if not _take_page(campaign, page):
        return
    try:
        _fan_out_page(campaign, page)
    except Exception:
        # The retry need not wait for the lease (a run that dies outright does).
        _release_page(campaign, page)
        raise


class PageBusyError(Exception):
    """Another run holds the page's lease: this message comes back later."""


def _take_page(campaign: CampaignRecord, page: int) -> bool:
    """Lease the page for this run; False if it turns out done, PageBusyError if leased."""
    now = utcnow()
    try:
        campaign.update(
            actions=[CampaignRecord.fanout_lease_until.set(now + timedelta(seconds=LEASE_SECONDS))],
            condition=(CampaignRecord.fanout_pages == page)
            & CampaignRecord.status.is_in(models.QUEUED, models.SENDING)
            & (
                CampaignRecord.fanout_lease_until.does_not_exist()
                | (CampaignRecord.fanout_lease_until < now)
            ),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        campaign.refresh(consistent_read=True)
        if int(campaign.fanout_pages) != page or campaign.status not in (
            models.QUEUED,
            models.SENDING,
        ):
            return False
        raise PageBusyError(f"fan-out page {page} is being done by another run") from None
    return True


def _campaign(message: dict[str, Any]) -> CampaignRecord | None:
    try:
        return CampaignRecord.get(message["owner_id"], message["campaign_id"], consistent_read=True)
    except CampaignRecord.DoesNotExist:
        log.error("fan-out for a missing campaign %s", message.get("campaign_id"))
        return None


def _release_page(campaign: CampaignRecord, page: int) -> None:
    try:
        campaign.update(
            actions=[CampaignRecord.fanout_lease_until.remove()],
            condition=CampaignRecord.fanout_pages == page,
        )
    except Exception:
        log.warning("could not release the lease of fan-out page %d", page)


def _fan_out_page(campaign: CampaignRecord, page: int) -> None:
    # In creation order (the contact-id index): of two contacts sharing a
    # phone, the one added first gets the message, as a person would expect.
    contacts = ContactRecord.by_contact_id.query(
        partition(campaign.owner_id, campaign.directory_id),
        limit=PAGE_SIZE,
        last_evaluated_key=campaign.fanout_cursor,
        consistent_read=True,
    )
    deliveries = [_delivery_for(campaign, contact) for contact in contacts]
    if not _directory_exists(campaign):
        _give_up_on_deleted_directory(campaign)
        return
    cursor = contacts.last_evaluated_key if len(deliveries) == PAGE_SIZE else None
    stored = _store(deliveries)
    skipped = sum(1 for d in stored if d.status == models.SKIPPED)
    # Only deliveries still waiting: one an earlier run queued and a sender
    # already took needs no second message.
    _queue_sends(campaign, [d.contact_id for d in stored if d.status == models.PENDING])
    last = cursor is None
    actions: list[Any] = [
        CampaignRecord.total.add(len(stored)),
        CampaignRecord.pending.add(len(stored) - skipped),
        CampaignRecord.skipped.add(skipped),
        CampaignRecord.fanout_pages.set(page + 1),
        CampaignRecord.fanout_cursor.set(cursor)
        if cursor
        else CampaignRecord.fanout_cursor.remove(),
        CampaignRecord.status.set(models.SENDING),
        CampaignRecord.fanout_lease_until.remove(),
        CampaignRecord.updated_at.set(utcnow()),
    ]
    if last:
        actions.append(CampaignRecord.fanned_out.set(True))
    try:
        campaign.update(
            actions=actions,
            condition=(CampaignRecord.fanout_pages == page)
            & CampaignRecord.status.is_in(models.QUEUED, models.SENDING),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        log.info("fan-out page %d was done by another run", page)
        return
    log.info("fan-out page %d: %d deliveries, %d skipped", page, len(stored), skipped)
    if last:
        finish_if_done(campaign)
    else:
        _queue_page(campaign, page + 1)


def _directory_exists(campaign: CampaignRecord) -> bool:
    """Whether the directory is still there, asked after reading the page's contacts.

    Deleting a directory removes its item at once and purges its contacts
    later: a page read while the purge runs would look short, like the last
    one. The purge starts only after the item is gone, so a directory found
    after the read means the read saw every contact.
    """
    try:
        DirectoryRecord.get(campaign.owner_id, campaign.directory_id, consistent_read=True)
    except DirectoryRecord.DoesNotExist:
        return False
    return True


def _give_up_on_deleted_directory(campaign: CampaignRecord) -> None:
    prepared = int(campaign.total)
    reason = (
        f"The directory was deleted after {prepared} deliveries were prepared; "
        "no more were prepared, and those already queued may still be sent."
    )
    if fail_campaign(campaign.owner_id, campaign.campaign_id, reason):
        log.warning("campaign failed: its directory was deleted after %d deliveries", prepared)


def _delivery_for(campaign: CampaignRecord, contact: ContactRecord) -> DeliveryRecord:
    destination, reason = _destination(campaign, contact)
    if (
        destination
        and not reason
        and campaign.channel != "email"
        and _taken(campaign, contact, destination)
    ):
        reason = "Same address as an earlier contact of this campaign."
    return DeliveryRecord(
        campaign.campaign_id,
        contact.contact_id,
        owner_id=campaign.owner_id,
        directory_id=campaign.directory_id,
        channel=campaign.channel,
        destination=destination,
        status=models.SKIPPED if reason else models.PENDING,
        error=reason,
        attempts=0,
        fields=contact_fields(
            contact.first_name, contact.last_name, contact.email, contact.phone, contact.extra
        )
        if not reason
        else {},
        created_at=utcnow(),
    )


def _destination(campaign: CampaignRecord, contact: ContactRecord) -> tuple[str | None, str | None]:
    """Where the message goes, or why it cannot go there."""
    channel = campaign.channel
    if channel == "email":
        if not contact.email:
            return None, "No email address."
        destination = contact.email
    else:
        if not contact.phone:
            return None, "No phone number."
        if not contact.phone_valid:
            return contact.phone, "Invalid phone number."
        destination = contact.phone
    status = (contact.subscriptions or {}).get(channel, "subscribed")
    if status in _BLOCKING:
        return destination, f"The contact is {status} for {channel}."
    return destination, None


def _taken(campaign: CampaignRecord, contact: ContactRecord, destination: str) -> bool:
    """Whether an earlier contact of the campaign has this phone (claims it if not)."""
    claim = AddressRecord(
        models.address_partition(campaign.campaign_id),
        destination,
        first_contact_id=contact.contact_id,
    )
    try:
        claim.save(
            condition=AddressRecord.destination.does_not_exist()
            | (AddressRecord.first_contact_id == contact.contact_id)
        )
    except PutError as exc:
        if not condition_failed(exc):
            raise
        return True
    return False


def _store(deliveries: list[DeliveryRecord]) -> list[DeliveryRecord]:
    """The page's deliveries as stored: new ones written, ones an earlier run wrote kept.

    A kept delivery may be sent by now; the page still counts it as it was
    created, pending or skipped, since the sender has already moved the
    counters for what it did.
    """
    if not deliveries:
        return []
    campaign_id = deliveries[0].campaign_id
    existing = {
        d.contact_id: d
        for d in DeliveryRecord.batch_get(
            [(campaign_id, d.contact_id) for d in deliveries], consistent_read=True
        )
    }
    with DeliveryRecord.batch_write() as batch:
        for delivery in deliveries:
            if delivery.contact_id not in existing:
                batch.save(delivery)
    return [existing.get(d.contact_id, d) for d in deliveries]


def _queue_sends(campaign: CampaignRecord, contact_ids: list[str]) -> None:
    bodies = [
        json.dumps(
            {
                "campaign_id": campaign.campaign_id,
                "contact_ids": contact_ids[i : i + DELIVERIES_PER_MESSAGE],
            }
        )
        for i in range(0, len(contact_ids), DELIVERIES_PER_MESSAGE)
    ]
    for i in range(0, len(bodies), MESSAGES_PER_BATCH):
        entries = [
            {"Id": str(n), "MessageBody": body}
            for n, body in enumerate(bodies[i : i + MESSAGES_PER_BATCH])
        ]
        response = client("sqs").send_message_batch(
            QueueUrl=queue_url("deliveries"), Entries=entries
        )
        if response.get("Failed"):
            # The page's run fails and comes back; sent messages are harmless twice.
            raise RuntimeError(f"could not queue {len(response['Failed'])} send messages")


def _queue_page(campaign: CampaignRecord, page: int) -> None:
    client("sqs").send_message(
        QueueUrl=queue_url("campaigns"),
        MessageBody=json.dumps(
            {
                "kind": FAN_OUT_PAGE,
                "owner_id": campaign.owner_id,
                "campaign_id": campaign.campaign_id,
                "page": page,
            }
        ),
    )
