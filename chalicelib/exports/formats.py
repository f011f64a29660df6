"""The export formats: a light module, read by the routes at cold start."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    extension: str
    content_type: str


FORMATS = {
    "csv": Format("csv", "text/csv; charset=utf-8"),
    "xlsx": Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": Format("pdf", "application/pdf"),
}
