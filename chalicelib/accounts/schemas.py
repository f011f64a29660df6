"""Request and response shapes of the accounts routes.

Strict types: ``"password": 123`` is a 400 naming the field, not a 500 and
not a silent ``"123"``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.emails import normalize_email

USERNAME_PATTERN = re.compile(r"^[\w.+-]{1,150}$")

# Long enough for any real password, short enough that nobody hashes megabytes.
Password = Annotated[str, Field(min_length=1, max_length=1024)]


class _Body(BaseModel):
    # defer_build: validators are compiled on first use, not at cold start.
    model_config = ConfigDict(strict=True, str_max_length=4096, defer_build=True)


class RegisterBody(_Body):
    email: str = Field(description="Stored trimmed and lower-cased; one account per email.")
    username: str = Field(description="1 to 150 letters, digits and . + - _")
    password: Password = Field(
        description="8 to 72 UTF-8 bytes, not all digits, not the username or email."
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        # NFKC: "ｂｏｂ" (full-width) and "𝐛𝐨𝐛" are "bob", not look-alike new accounts.
        value = unicodedata.normalize("NFKC", value).strip()
        if not USERNAME_PATTERN.match(value):
            raise ValueError("Use 1 to 150 letters, digits and . + - _ (no spaces, no @).")
        return value


class LoginBody(_Body):
    """``username`` holds a username or an email; ``email`` is accepted too."""

    username: str | None = Field(
        default=None, max_length=254, description="A username or an email address."
    )
    email: str | None = Field(default=None, max_length=254, description="Instead of username.")
    password: Password

    @property
    def login(self) -> str:
        return (self.username or self.email or "").strip()


class RefreshBody(_Body):
    refresh: str = Field(min_length=1)


class ResetRequestBody(_Body):
    email: str = Field(min_length=1, max_length=254)


class ResetConfirmBody(_Body):
    """The account is named by ``email`` or ``user_id``."""

    email: str | None = Field(default=None, max_length=254, description="The account's email.")
    user_id: str | None = Field(default=None, max_length=64, description="Or the account's id.")
    code: str = Field(min_length=1, max_length=64, description="The 6 digits of the email.")
    new_password: Password = Field(description="The same rules as at registration.")


class UserOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    email: str
    username: str
    date_joined: datetime


class TokenPairOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    access: str
    refresh: str
