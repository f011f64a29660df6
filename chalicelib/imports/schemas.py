"""Request shapes of the import routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class UploadRequestBody(BaseModel):
    model_config = ConfigDict(strict=True, defer_build=True)

    directory_id: str = Field(min_length=1, max_length=100)
    filename: str = Field(min_length=1, max_length=1000)
    sheet: str | None = Field(default=None, max_length=200)
