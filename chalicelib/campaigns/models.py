"""The campaigns and deliveries tables.

A campaign is keyed by its owner, so another user's id is simply not found.
A delivery is keyed by (campaign, contact): that key is what makes "one send
per contact" hold, since a delivery is claimed by a conditional write before
anything is sent. SMS and WhatsApp campaigns also keep one small item per
destination (partition ``<campaign_id>#to``) so two contacts sharing a phone
get one message; emails are unique per directory already.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.db import table_meta

# Campaign statuses.
DRAFT = "draft"
QUEUED = "queued"
SENDING = "sending"
COMPLETED = "completed"
COMPLETED_WITH_ERRORS = "completed_with_errors"
# The fan-out gave up (its message exhausted its retries); ``error`` says why.
FAILED = "failed"
CAMPAIGN_STATUSES = (DRAFT, QUEUED, SENDING, COMPLETED, COMPLETED_WITH_ERRORS, FAILED)

# Delivery statuses; ``claimed`` is internal and shown as pending.
PENDING = "pending"
CLAIMED = "claimed"
SENT = "sent"
SKIPPED = "skipped"
DELIVERY_FAILED = "failed"
DELIVERY_STATUSES = (PENDING, SENT, DELIVERY_FAILED, SKIPPED)
FINAL = (SENT, DELIVERY_FAILED, SKIPPED)

CHANNELS = ("email", "sms", "whatsapp")


class CampaignRecord(Model):
    """A campaign, its templates and its ``stats`` counters (moved by atomic ADDs)."""

    Meta = table_meta("campaigns")

    owner_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    channel = UnicodeAttribute()
    subject = UnicodeAttribute(default="")
    body = UnicodeAttribute()
    directory_id = UnicodeAttribute()
    status = UnicodeAttribute(default=DRAFT)
    error = UnicodeAttribute(null=True)

    total = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)

    # The fan-out's progress: pages done, where the next one starts, and
    # whether every page has been done (then ``pending`` reaching 0 completes).
    fanout_pages = NumberAttribute(default=0)
    fanout_cursor = JSONAttribute(null=True)
    fanned_out = BooleanAttribute(default=False)
    # Until when one run owns the next page (see fanout._take_page).
    fanout_lease_until = UTCDateTimeAttribute(null=True)

    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    queued_at = UTCDateTimeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)


class DeliveryRecord(Model):
    """One contact's message of one campaign, and what became of it.

    ``fields`` keeps the contact's template fields as they were at fan-out,
    so sending renders without reading the contact again.
    """

    Meta = table_meta("deliveries")

    campaign_id = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)
    owner_id = UnicodeAttribute()
    directory_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    destination = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=PENDING)
    error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    fields = JSONAttribute(default=dict)
    # Until when a sender owns the delivery; after that another may claim it.
    claimed_until = UTCDateTimeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class AddressRecord(Model):
    """The first contact of an SMS/WhatsApp campaign to use a phone (in the deliveries table)."""

    Meta = table_meta("deliveries")

    partition = UnicodeAttribute(hash_key=True, attr_name="campaign_id")
    destination = UnicodeAttribute(range_key=True, attr_name="contact_id")
    first_contact_id = UnicodeAttribute()


def address_partition(campaign_id: str) -> str:
    return f"{campaign_id}#to"
