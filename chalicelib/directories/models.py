"""The directories table: keyed by owner, so another user's id is simply not found."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db import table_meta


class DirectoryById(GlobalSecondaryIndex["DirectoryRecord"]):  # type: ignore[no-untyped-call]
    """A directory's owner from its id alone: S3 drops name only the directory."""

    class Meta:
        index_name = "by_directory_id"
        projection = KeysOnlyProjection()

    directory_id = UnicodeAttribute(hash_key=True)


class DirectoryRecord(Model):
    """One contact list. ``contact_count`` moves by an atomic ADD with each contact written."""

    Meta = table_meta("directories")

    owner_id = UnicodeAttribute(hash_key=True)
    directory_id = UnicodeAttribute(range_key=True)
    by_id = DirectoryById()
    name = UnicodeAttribute()
    contact_count = NumberAttribute(default=0)
    # The import writing into the directory, and until when (see imports.pipeline):
    # one at a time, so two imports of the same new contacts cannot both count them.
    import_lease = UnicodeAttribute(null=True)
    import_lease_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
