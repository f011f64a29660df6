"""Request and response shapes of the campaign routes; templates are checked by the service."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.campaigns.templates import MAX_BODY, MAX_SUBJECT
from chalicelib.http.shapes import Page

MAX_NAME = 200
# C0 and C1 controls, DEL: never part of a name (a NUL breaks exports and logs).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class CampaignFields(BaseModel):
    """Every field optional: PATCH sends some, PUT and POST all they need."""

    model_config = ConfigDict(strict=True, defer_build=True)

    name: str | None = Field(default=None, max_length=MAX_NAME)
    channel: Literal["email", "sms", "whatsapp"] | None = None
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    directory: str | None = Field(default=None, max_length=100)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if _CONTROL.search(value.replace("\t", " ")):
            raise ValueError("A name cannot hold control characters.")
        value = " ".join(value.split())
        if not value:
            raise ValueError("Give the campaign a name.")
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str | None) -> str | None:
        # A line break in a header would let a subject add headers (Bcc: …).
        if value is not None and ("\r" in value or "\n" in value):
            raise ValueError("A subject is one line: no line breaks.")
        return value


class CampaignBody(CampaignFields):
    """A whole campaign (POST, PUT)."""

    name: str = Field(max_length=MAX_NAME)
    channel: Literal["email", "sms", "whatsapp"]
    body: str = Field(min_length=1, max_length=MAX_BODY)
    directory: str = Field(min_length=1, max_length=100)


class _Out(BaseModel):
    model_config = ConfigDict(defer_build=True)


class CampaignStatsOut(_Out):
    total: int
    pending: int
    sent: int
    failed: int
    skipped: int


class CampaignOut(_Out):
    id: str
    name: str
    channel: Literal["email", "sms", "whatsapp"]
    subject: str | None
    body: str
    directory: str
    status: Literal["draft", "queued", "sending", "completed", "completed_with_errors", "failed"]
    error: str | None = Field(description="Why preparing the deliveries gave up, if it did.")
    stats: CampaignStatsOut
    created_at: str
    updated_at: str
    queued_at: str | None
    completed_at: str | None


class CampaignPage(Page[CampaignOut]):
    pass


class DeliveryOut(_Out):
    id: str
    campaign: str
    contact: str
    channel: Literal["email", "sms", "whatsapp"]
    destination: str | None
    status: Literal["pending", "sent", "failed", "skipped"]
    error: str | None = Field(description="Why it failed or was skipped.")
    attempts: int
    provider_message_id: str | None
    sent_at: str | None


class DeliveryPage(Page[DeliveryOut]):
    pass
