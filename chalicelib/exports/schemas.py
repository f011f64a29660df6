"""Request and response shapes of the export routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ExportRequestBody(BaseModel):
    model_config = ConfigDict(strict=True, defer_build=True)

    directory_id: str = Field(min_length=1, max_length=100)
    format: str = Field(min_length=1, max_length=10)


class ExportJobOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    directory_id: str
    format: Literal["csv", "xlsx", "pdf"]
    status: Literal["pending", "processing", "completed", "failed"]
    filename: str = Field(description="The name the file downloads under.")
    row_count: int = Field(description="Contacts written, once completed.")
    size_bytes: int
    failure_reason: str | None
    created_at: str
    finished_at: str | None
    download_url: str | None = Field(
        description="A presigned link to the file, valid for an hour, once completed."
    )
