"""The contacts table: one item per contact, keyed so an email is unique by construction.

The partition key is ``<owner_id>#<directory_id>``: ownership is part of the
key, so another user's contact id is simply not found. In a partition, a
contact with an email sorts under ``e#<email>``; one without an email but
with a valid phone under ``p#<E.164 phone>``; any other under
``n#<contact_id>``, or, when an import made it from a row with neither,
``r#<digest of the row's values>`` (so importing that row again finds it;
changed through the API, it moves to ``n#``).

A conditional put of the key is what makes "one contact per email per
directory" (and, among contacts without an email, one per phone) hold, even
for two writers at once, with a single item per contact (one write per
contact when importing, which finds a contact again by the same key).

The public id stays the same when the email changes: it is the
``contact_id`` attribute, found through the local index ``by_contact_id``,
which reads strongly consistent and lists contacts in creation order.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db import table_meta

EMAIL_PREFIX = "e#"
PHONE_PREFIX = "p#"
NO_EMAIL_PREFIX = "n#"
ROW_PREFIX = "r#"


def partition(owner_id: str, directory_id: str) -> str:
    return f"{owner_id}#{directory_id}"


def match_key(email: str | None, phone: str | None, phone_valid: bool) -> str | None:
    """The key that identifies a contact by what it holds: its email, else its valid phone.

    An invalid phone is kept as typed ("call reception"), so it identifies
    no one; nor does a name.
    """
    if email:
        return EMAIL_PREFIX + email
    if phone and phone_valid:
        return PHONE_PREFIX + phone
    return None


def item_key_for(
    email: str | None, contact_id: str, phone: str | None = None, phone_valid: bool = False
) -> str:
    """The sort key a contact with this email, phone and id is stored under."""
    return match_key(email, phone, phone_valid) or NO_EMAIL_PREFIX + contact_id


class ContactsById(LocalSecondaryIndex["ContactRecord"]):  # type: ignore[no-untyped-call]
    """A directory's contacts by id: lookups by id, and listing in creation order."""

    class Meta:
        index_name = "by_contact_id"
        projection = AllProjection()

    directory_key = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)


class ContactRecord(Model):
    """A person. ``phone`` is E.164 when ``phone_valid``, else the text as given."""

    Meta = table_meta("contacts")

    directory_key = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    contact_id = UnicodeAttribute()
    by_contact_id = ContactsById()

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
    # "<import id>:<chunk's first row>" on a contact an import created: a
    # chunk run again after a crash knows the contacts it made but had not
    # yet counted (see imports.writer).
    import_chunk = UnicodeAttribute(null=True)

    @property
    def public_id(self) -> str:
        """The id clients use: the directory and the contact, so one read finds it."""
        return f"{self.directory_id}.{self.contact_id}"
