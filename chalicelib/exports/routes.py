"""HTTP routes of exports: a direct download, and export jobs for any size."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.errors import (
    ExportNotPossibleError,
    ExportTooLargeError,
    NotFoundError,
    ValidationError,
)
from chalicelib.exports.formats import FORMATS
from chalicelib.http.apidoc import Query, documented
from chalicelib.http.bodies import parse_body
from chalicelib.http.context import current_request
from chalicelib.http.routes import accepted, authenticated
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.accounts.models import UserRecord
    from chalicelib.exports import files, schemas, service
else:
    # Loaded by the first request that needs them, not at cold start.
    files = lazy_module("chalicelib.exports.files")
    schemas = lazy_module("chalicelib.exports.schemas")
    service = lazy_module("chalicelib.exports.service")

bp = Blueprint(__name__)


@bp.route("/contacts/export", methods=["GET"])
@documented(
    "Download a directory's contacts as a CSV, XLSX or PDF file",
    query=(
        Query("directory_id", "The directory's id (`directory` works too).", required=True),
        Query("format", "The file's format (default csv).", enum=("csv", "xlsx", "pdf")),
    ),
    media_type=tuple(f.content_type for f in FORMATS.values()),
    errors=(NotFoundError, ExportTooLargeError, ExportNotPossibleError),
    description="An attachment named after the directory and the date. Directories too "
    "large for one response get 413: use `POST /api/contacts/exports`.",
)
@authenticated
def export_contacts(user: UserRecord) -> Response:
    params: dict[str, str] = dict(current_request().query_params or {})
    # ``directory`` too: the contacts list filters by that name.
    directory_id = _directory_id(params.get("directory_id") or params.get("directory") or "")
    fmt = service.check_format(params.get("format", "csv"))
    body, filename = service.export_now(user.user_id, directory_id, fmt)
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": FORMATS[fmt].content_type,
            "Content-Disposition": files.content_disposition(filename),
            "Cache-Control": "no-store",
        },
    )


@bp.route("/exports", methods=["POST"])
@documented(
    "Start an export job, for directories of any size",
    body=lambda: schemas.ExportRequestBody,
    response=lambda: schemas.ExportJobOut,
    status=202,
    errors=(NotFoundError,),
    description="Poll `GET /api/contacts/exports/{id}` until `status` is completed, "
    "then fetch `download_url`.",
)
@authenticated
def create_export(user: UserRecord) -> Any:
    body = parse_body(current_request(), schemas.ExportRequestBody)
    fmt = service.check_format(body.format)
    job = service.create_job(user.user_id, _directory_id(body.directory_id), fmt)
    return accepted(service.job_out(job))


def _directory_id(value: str) -> str:
    """The directory to export, as sent (trimmed); a blank one is a 400 naming the field."""
    if not value.strip():
        raise ValidationError.for_field("directory_id", "Give the directory to export.")
    return value.strip()


@bp.route("/exports/{export_id}", methods=["GET"])
@documented(
    "An export job: status and, once completed, a download link",
    response=lambda: schemas.ExportJobOut,
)
@authenticated
def get_export(user: UserRecord, export_id: str) -> Any:
    return service.job_out(service.get_job(user.user_id, export_id))
