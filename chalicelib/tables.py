"""Every PynamoDB model, so tools (local stack, tests, bench) can create all tables."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.accounts.models import (
    RefreshTokenRecord,
    ResetCodeRecord,
    UserKeyRecord,
    UserRecord,
)
from chalicelib.campaigns.models import CampaignRecord, DeliveryRecord
from chalicelib.contacts.models import ContactRecord
from chalicelib.directories.models import DirectoryRecord
from chalicelib.exports.models import ExportRecord
from chalicelib.imports.models import ImportRecord
from chalicelib.ratelimit import RateLimitRecord

ALL_MODELS: tuple[type[Model], ...] = (
    UserRecord,
    UserKeyRecord,
    RefreshTokenRecord,
    ResetCodeRecord,
    RateLimitRecord,
    DirectoryRecord,
    ContactRecord,
    ImportRecord,
    ExportRecord,
    CampaignRecord,
    DeliveryRecord,
)

# Models whose TTLAttribute DynamoDB should expire on its own.
TTL_MODELS: tuple[type[Model], ...] = (
    RefreshTokenRecord,
    ResetCodeRecord,
    RateLimitRecord,
    ExportRecord,
)
