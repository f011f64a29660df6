"""The accounts tables.

Emails and usernames are unique through guard items in ``user_keys``
(``email#<address>``, ``username#<name>``), written in the same transaction
as the user, because DynamoDB has no unique index.
"""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.db import table_meta


class UserRecord(Model):
    """One account. ``token_version`` is bumped to revoke every token issued before."""

    Meta = table_meta("users")

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    username = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    token_version = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    password_changed_at = UTCDateTimeAttribute(null=True)


class UserKeyRecord(Model):
    """A unique login key (``email#…`` or ``username#…``) pointing at its user."""

    Meta = table_meta("user_keys")

    key = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class RefreshTokenRecord(Model):
    """A refresh token that has not been used yet; using it deletes it (rotation)."""

    Meta = table_meta("refresh_tokens")

    token_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    expires_at = TTLAttribute()


class ResetCodeRecord(Model):
    """The one live password-reset code of a user, stored as an HMAC, never in clear."""

    Meta = table_meta("reset_codes")

    user_id = UnicodeAttribute(hash_key=True)
    code_hash = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    expires_at = TTLAttribute()
