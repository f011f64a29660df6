"""Request and response shapes of the import routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.http.shapes import Page


class UploadRequestBody(BaseModel):
    model_config = ConfigDict(strict=True, defer_build=True)

    directory_id: str = Field(min_length=1, max_length=100)
    filename: str = Field(min_length=1, max_length=1000)
    sheet: str | None = Field(default=None, max_length=200)
    phone_region: str | None = Field(
        default=None,
        max_length=10,
        description="Country code for phones written without one (default: the server's).",
    )


class _Out(BaseModel):
    model_config = ConfigDict(defer_build=True)


class RowErrorOut(_Out):
    row: int | None
    field: str | None
    message: str


class ImportJobOut(_Out):
    id: str
    directory_id: str
    status: Literal["pending", "processing", "completed", "completed_with_errors", "failed"]
    filename: str
    sheet: str | None
    phone_region: str | None
    total_rows: int
    created: int
    updated: int
    skipped: int
    failed: int
    warnings: int = Field(
        description="Rows imported with a warning (a value changed or left out); "
        "the report says which and why."
    )
    errors: list[RowErrorOut] = Field(description="The first 100 rows that were not imported.")
    failure_reason: str | None
    report_url: str | None = Field(description="A presigned link to the CSV report, once done.")
    created_at: str
    updated_at: str


class UploadTargetOut(_Out):
    url: str = Field(description="PUT the file's bytes here.")
    method: Literal["PUT"]
    expires_in: int = Field(description="Seconds the URL stays valid.")


class UploadJobOut(ImportJobOut):
    upload: UploadTargetOut


class ImportJobPage(Page[ImportJobOut]):
    pass
