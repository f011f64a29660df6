"""Request shapes of the campaign routes: types and sizes; templates are checked by the service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_SUBJECT = 998  # the longest line an email header may have
MAX_BODY = 100_000


class CampaignFields(BaseModel):
    """Every field optional: PATCH sends some, PUT and POST all they need."""

    model_config = ConfigDict(strict=True, defer_build=True)

    name: str | None = Field(default=None, max_length=500)
    channel: Literal["email", "sms", "whatsapp"] | None = None
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    directory: str | None = Field(default=None, max_length=100)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value:
            raise ValueError("Give the campaign a name.")
        if len(value) > 200:
            raise ValueError("Use at most 200 characters.")
        return value


class CampaignBody(CampaignFields):
    """A whole campaign (POST, PUT)."""

    name: str = Field(max_length=500)
    channel: Literal["email", "sms", "whatsapp"]
    body: str = Field(min_length=1, max_length=MAX_BODY)
    directory: str = Field(min_length=1, max_length=100)
