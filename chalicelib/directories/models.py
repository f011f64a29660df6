"""The directories table: keyed by owner, so another user's id is simply not found."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.db import table_meta


class DirectoryRecord(Model):
    """One contact list. ``contact_count`` moves in the same transaction as its contacts."""

    Meta = table_meta("directories")

    owner_id = UnicodeAttribute(hash_key=True)
    directory_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    contact_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
