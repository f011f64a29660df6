"""Request and response shapes of the directory and contact routes: types only.

What a value means (a valid email, a phone, bounded ``extra``) is checked
by :mod:`chalicelib.contacts.normalize`, shared with the importer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.http.shapes import Page


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, str_max_length=20_000, defer_build=True)


class DirectoryBody(_Body):
    name: str = Field(max_length=500)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("Give the directory a name.")
        if len(value) > 200:
            raise ValueError("Use at most 200 characters.")
        return value


class ContactFields(_Body):
    """Every field optional: PATCH sends some, PUT and POST what they have."""

    directory: str | None = Field(default=None, max_length=100)
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    extra: dict[str, Any] | None = None
    tags: list[str] | None = None
    subscriptions: dict[str, str] | None = None


class ContactCreateBody(ContactFields):
    directory: str = Field(min_length=1, max_length=100)


class DirectoryPatchBody(_Body):
    name: str | None = Field(default=None, max_length=500)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else DirectoryBody._name(value)


# Response shapes: what directory_out and contact_out return.


class _Out(BaseModel):
    model_config = ConfigDict(defer_build=True)


class DirectoryOut(_Out):
    id: str
    name: str
    contact_count: int = Field(description="Exact number of contacts in the directory.")
    created_at: str = Field(description="ISO 8601 time, UTC.")
    updated_at: str = Field(description="ISO 8601 time, UTC.")


class FieldWarningOut(_Out):
    field: str
    message: str


class ContactOut(_Out):
    id: str = Field(description="`<directory id>.<contact id>`")
    directory: str
    first_name: str
    last_name: str
    email: str | None = Field(description="Trimmed and lower-cased.")
    phone: str | None = Field(description="E.164 when `phone_valid`, else the text as given.")
    phone_valid: bool | None
    extra: dict[str, Any]
    tags: list[str]
    subscriptions: dict[str, str] = Field(
        description="Each channel's status: subscribed, unsubscribed, bounced or complained."
    )
    subscriptions_changed_at: dict[str, str]
    created_at: str
    updated_at: str
    warnings: list[FieldWarningOut] | None = Field(
        default=None, description="On create and update: values kept as given (e.g. a phone)."
    )


class DirectoryPage(Page[DirectoryOut]):
    pass


class ContactPage(Page[ContactOut]):
    pass
