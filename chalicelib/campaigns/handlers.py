"""The campaigns queue's workers: fan-out pages in, and their dead letters."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import logs
from chalicelib.campaigns.fanout import handle_fan_out
from chalicelib.campaigns.progress import fail_campaign

log = logging.getLogger(__name__)

__all__ = ["handle_dead_fan_out", "handle_fan_out"]


def handle_dead_fan_out(message: dict[str, Any]) -> None:
    """A fan-out page that failed every retry: the campaign fails, saying where it stopped.

    Deliveries written before go on being sent; the contacts after the page
    get none, so the campaign cannot be called completed.
    """
    owner_id, campaign_id = message.get("owner_id"), message.get("campaign_id")
    if not isinstance(owner_id, str) or not isinstance(campaign_id, str):
        log.error("dropping a dead campaigns message that names no campaign")
        return
    logs.append_keys(campaign_id=campaign_id)
    page = message.get("page")
    reason = (
        f"Sending stopped after repeated errors while preparing page {page} of the directory; "
        "contacts before it were sent to, contacts from it on were not."
    )
    if fail_campaign(owner_id, campaign_id, reason):
        log.error("campaign %s failed: fan-out page %s ran out of retries", campaign_id, page)
