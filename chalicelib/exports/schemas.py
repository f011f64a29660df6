"""Request shapes of the export routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExportRequestBody(BaseModel):
    model_config = ConfigDict(strict=True, defer_build=True)

    directory_id: str = Field(min_length=1, max_length=100)
    format: str = Field(min_length=1, max_length=10)
