"""The contacts table: every directory's contacts and email guards in one partition.

The partition key is ``<owner_id>#<directory_id>``: ownership is part of the
key, so a contact id of another user's directory is simply not found. In a
partition, contacts sort under ``c#<id>`` (creation order) and each email
has a guard item ``e#<email>`` naming its contact: DynamoDB has no unique
index, and a conditional put of the guard in the same transaction as the
contact is what makes "one contact per email" hold under concurrency.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.db import table_meta

CONTACT_PREFIX = "c#"
EMAIL_GUARD_PREFIX = "e#"


def partition(owner_id: str, directory_id: str) -> str:
    return f"{owner_id}#{directory_id}"


class ContactTableItem(Model):
    """Any item of the contacts table; ``kind`` says which."""

    Meta = table_meta("contacts")

    directory_key = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()


class ContactRecord(ContactTableItem, discriminator="contact"):
    """A person. ``phone`` is E.164 when ``phone_valid``, else the text as given."""

    directory_id = UnicodeAttribute()
    first_name = UnicodeAttribute(default="")
    last_name = UnicodeAttribute(default="")
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    phone_valid = BooleanAttribute(default=False)
    extra = JSONAttribute(default=dict)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    # channel -> subscribed | unsubscribed | bounced | complained; a channel
    # not listed is subscribed.
    subscriptions = JSONAttribute(default=dict)
    # channel -> ISO time its status last changed (consent evidence)
    subscriptions_changed_at = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @property
    def contact_id(self) -> str:
        """The public id: the directory and the contact, so one read finds it."""
        return f"{self.directory_id}.{self.item_key.removeprefix(CONTACT_PREFIX)}"


class EmailGuardRecord(ContactTableItem, discriminator="email"):
    """Reserves an email in a directory for one contact."""

    contact_key = UnicodeAttribute()
