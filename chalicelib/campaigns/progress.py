"""A campaign's counters and its end: every change is one atomic update.

Senders move ``pending`` into ``sent`` or ``failed`` with ADDs, one update per
message of deliveries; whoever's update leaves ``pending`` at 0 after the
fan-out's last page closes the campaign, with a condition so it closes once.
"""

from __future__ import annotations

import logging

from pynamodb.exceptions import UpdateError

from chalicelib.campaigns import models
from chalicelib.campaigns.models import CampaignRecord
from chalicelib.db import condition_failed, utcnow

log = logging.getLogger(__name__)


def record_outcomes(owner_id: str, campaign_id: str, *, sent: int, failed: int) -> None:
    """Move ``sent + failed`` deliveries out of pending, then close the campaign if it is done."""
    if not sent and not failed:
        return
    campaign = CampaignRecord(owner_id, campaign_id)
    try:
        campaign.update(
            actions=[
                CampaignRecord.pending.add(-(sent + failed)),
                CampaignRecord.sent.add(sent),
                CampaignRecord.failed.add(failed),
            ],
            condition=CampaignRecord.campaign_id.exists(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        log.error("campaign %s is gone; %d outcomes not counted", campaign_id, sent + failed)
        return
    finish_if_done(campaign)


def finish_if_done(campaign: CampaignRecord) -> None:
    """Close a campaign (as just read from an update) whose every delivery is final."""
    if not campaign.fanned_out or int(campaign.pending) != 0 or campaign.status != models.SENDING:
        return
    status = models.COMPLETED_WITH_ERRORS if int(campaign.failed) else models.COMPLETED
    now = utcnow()
    try:
        campaign.update(
            actions=[
                CampaignRecord.status.set(status),
                CampaignRecord.completed_at.set(now),
                CampaignRecord.updated_at.set(now),
            ],
            condition=(CampaignRecord.status == models.SENDING)
            & (CampaignRecord.pending == 0)
            & (CampaignRecord.fanned_out == True),  # noqa: E712 (a DynamoDB condition)
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return
    log.info("campaign %s %s", campaign.campaign_id, status)


def fail_campaign(owner_id: str, campaign_id: str, reason: str) -> bool:
    """Mark a campaign whose fan-out gave up as failed, saying why; False if already finished."""
    try:
        CampaignRecord(owner_id, campaign_id).update(
            actions=[
                CampaignRecord.status.set(models.FAILED),
                CampaignRecord.error.set(reason),
                CampaignRecord.updated_at.set(utcnow()),
            ],
            condition=CampaignRecord.status.is_in(models.QUEUED, models.SENDING),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True
