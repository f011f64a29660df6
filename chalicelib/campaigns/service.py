"""Campaigns: create, read, list, change and delete while draft; queue; list deliveries.

Queueing only flips the campaign to ``queued`` and puts one message on the
campaigns queue, so it answers at once whatever the directory's size; the
fan-out (:mod:`chalicelib.campaigns.fanout`) does the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib import queues
from chalicelib.campaigns import models, templates
from chalicelib.campaigns.models import CampaignRecord, DeliveryRecord
from chalicelib.db import condition_failed, iso, utcnow
from chalicelib.directories.service import get_directory
from chalicelib.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.http.pagination import Page, PageRequest, fetch_page, model_key
from chalicelib.ids import looks_like_id, new_id

log = logging.getLogger(__name__)

EDITABLE = ("name", "channel", "subject", "body", "directory_id")
FAN_OUT_PAGE = "fan_out_page"


def create_campaign(owner_id: str, fields: dict[str, Any]) -> CampaignRecord:
    """A draft campaign to one of the owner's directories; 400 naming a bad template."""
    values = _checked(owner_id, fields)
    now = utcnow()
    campaign = CampaignRecord(
        owner_id, new_id(), status=models.DRAFT, created_at=now, updated_at=now, **values
    )
    campaign.save(condition=CampaignRecord.campaign_id.does_not_exist())
    log.info("created campaign %s", campaign.campaign_id)
    return campaign


def get_campaign(owner_id: str, campaign_id: str) -> CampaignRecord:
    """The owner's campaign; 404 for a missing one or anyone else's."""
    if not looks_like_id(campaign_id):
        raise NotFoundError("No such campaign.")
    try:
        return CampaignRecord.get(owner_id, campaign_id, consistent_read=True)
    except CampaignRecord.DoesNotExist:
        raise NotFoundError("No such campaign.") from None


def list_campaigns(owner_id: str, page: PageRequest) -> Page:
    """The owner's campaigns, oldest first."""
    return fetch_page(
        lambda limit, start: CampaignRecord.query(owner_id, limit=limit, last_evaluated_key=start),
        page,
        lambda item: model_key(item, ["owner_id", "campaign_id"]),
    )


def update_campaign(
    owner_id: str, campaign_id: str, fields: dict[str, Any], *, replace: bool
) -> CampaignRecord:
    """Change a draft campaign (PUT: all fields, PATCH: those sent); 409 once queued."""
    campaign = get_campaign(owner_id, campaign_id)
    _require_draft(campaign)
    current = {name: getattr(campaign, name) for name in EDITABLE}
    current["directory"] = current.pop("directory_id")
    merged = fields if replace else {**current, **fields}
    values = _checked(owner_id, merged, campaign.directory_id)
    actions = [getattr(CampaignRecord, name).set(value) for name, value in values.items()]
    try:
        campaign.update(
            actions=[*actions, CampaignRecord.updated_at.set(utcnow())],
            condition=CampaignRecord.status == models.DRAFT,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise _not_draft(get_campaign(owner_id, campaign_id)) from None
    return campaign


def delete_campaign(owner_id: str, campaign_id: str) -> None:
    """Remove a draft campaign; 409 once queued (its deliveries are its record)."""
    campaign = get_campaign(owner_id, campaign_id)
    _require_draft(campaign)
    try:
        campaign.delete(condition=CampaignRecord.status == models.DRAFT)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise
        raise _not_draft(get_campaign(owner_id, campaign_id)) from None
    log.info("deleted campaign %s", campaign_id)


def queue_campaign(owner_id: str, campaign_id: str) -> CampaignRecord:
    """Start sending: draft → queued and one fan-out message; 409 the second time."""
    campaign = get_campaign(owner_id, campaign_id)
    _require_draft(campaign)
    try:
        get_directory(owner_id, campaign.directory_id)
    except NotFoundError:
        raise _directory_gone() from None
    now = utcnow()
    try:
        campaign.update(
            actions=[
                CampaignRecord.status.set(models.QUEUED),
                CampaignRecord.queued_at.set(now),
                CampaignRecord.updated_at.set(now),
            ],
            condition=CampaignRecord.status == models.DRAFT,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise _not_draft(get_campaign(owner_id, campaign_id)) from None
    message = {"kind": FAN_OUT_PAGE, "owner_id": owner_id, "campaign_id": campaign_id, "page": 0}
    try:
        queues.send("campaigns", message)
    except Exception:
        # Without its message the campaign would sit in "queued" for ever:
        # put it back to draft so the client can simply queue it again.
        campaign.update(
            actions=[CampaignRecord.status.set(models.DRAFT)],
            condition=CampaignRecord.status == models.QUEUED,
        )
        raise
    log.info("queued campaign %s", campaign_id)
    return campaign


def list_deliveries(
    owner_id: str, campaign_id: str, status: str | None, page: PageRequest
) -> tuple[Page, CampaignRecord]:
    """A page of the campaign's deliveries in contact order, optionally of one status."""
    if status is not None and status not in models.DELIVERY_STATUSES:
        raise ValidationError.for_field(
            "status", f"Use one of {', '.join(models.DELIVERY_STATUSES)}."
        )
    campaign = get_campaign(owner_id, campaign_id)
    if status == models.PENDING:
        # A claimed delivery is one being sent right now: still pending to a client.
        condition: Any = DeliveryRecord.status.is_in(models.PENDING, models.CLAIMED)
    elif status is not None:
        condition = DeliveryRecord.status == status
    else:
        condition = None
    result = fetch_page(
        lambda limit, start: DeliveryRecord.query(
            campaign_id, filter_condition=condition, limit=limit, last_evaluated_key=start
        ),
        page,
        lambda item: model_key(item, ["campaign_id", "contact_id"]),
    )
    return result, campaign


def campaign_out(campaign: CampaignRecord) -> dict[str, Any]:
    """The API's view of a campaign."""
    return {
        "id": campaign.campaign_id,
        "name": campaign.name,
        "channel": campaign.channel,
        "subject": campaign.subject or None,
        "body": campaign.body,
        "directory": campaign.directory_id,
        "status": campaign.status,
        "error": campaign.error,
        "stats": {
            "total": int(campaign.total),
            "pending": int(campaign.pending),
            "sent": int(campaign.sent),
            "failed": int(campaign.failed),
            "skipped": int(campaign.skipped),
        },
        "created_at": iso(campaign.created_at),
        "updated_at": iso(campaign.updated_at),
        "queued_at": iso(campaign.queued_at) if campaign.queued_at else None,
        "completed_at": iso(campaign.completed_at) if campaign.completed_at else None,
    }


def delivery_out(delivery: DeliveryRecord) -> dict[str, Any]:
    """The API's view of a delivery."""
    status = models.PENDING if delivery.status == models.CLAIMED else delivery.status
    return {
        "id": f"{delivery.campaign_id}.{delivery.contact_id}",
        "campaign": delivery.campaign_id,
        "contact": f"{delivery.directory_id}.{delivery.contact_id}",
        "channel": delivery.channel,
        "destination": delivery.destination,
        "status": status,
        "error": delivery.error,
        "attempts": int(delivery.attempts),
        "provider_message_id": delivery.provider_message_id,
        "sent_at": iso(delivery.sent_at) if delivery.sent_at else None,
    }


def _checked(
    owner_id: str, fields: dict[str, Any], current_directory: str | None = None
) -> dict[str, Any]:
    """The stored values of a whole campaign, every field checked; one 400 lists all.

    ``current_directory`` is a draft's directory: if it was deleted, a 409 names
    ``directory`` (a 404 would read as if the campaign were missing).
    """
    errors: dict[str, list[str]] = {}
    channel = fields.get("channel")
    subject = fields.get("subject") or ""
    body = fields.get("body") or ""
    for name in ("name", "channel", "body", "directory"):
        if not fields.get(name):
            errors.setdefault(name, []).append("This field is required.")
    if channel == "email" and not subject.strip():
        errors.setdefault("subject", []).append("An email needs a subject.")
    if channel in ("sms", "whatsapp") and subject:
        errors.setdefault("subject", []).append(f"A {channel} message has no subject.")
    for name, source in (("subject", subject), ("body", body)):
        if source and name not in errors:
            try:
                templates.check(source, name)
            except ValidationError as exc:
                for field, messages in exc.errors.items():
                    errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError("Invalid value for: " + ", ".join(errors) + ".", errors=errors)
    directory_id = str(fields["directory"])
    try:
        directory = get_directory(owner_id, directory_id)
    except NotFoundError:
        if directory_id == current_directory:
            # The campaign exists; what is gone is the directory it points at.
            raise _directory_gone() from None
        raise
    return {
        "name": fields["name"],
        "channel": channel,
        "subject": subject,
        "body": body,
        "directory_id": directory.directory_id,
    }


def _directory_gone() -> ConflictError:
    return ConflictError(
        "The campaign's directory was deleted; point it at another one first.",
        errors={"directory": ["This directory no longer exists."]},
    )


def _require_draft(campaign: CampaignRecord) -> None:
    if campaign.status != models.DRAFT:
        raise _not_draft(campaign)


def _not_draft(campaign: CampaignRecord) -> ConflictError:
    return ConflictError(
        f"The campaign is {campaign.status}; only a draft can be changed, deleted or queued.",
        campaign_status=campaign.status,
    )
