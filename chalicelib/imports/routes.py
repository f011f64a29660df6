"""HTTP routes of imports: /api/contacts/contacts/import and /api/contacts/imports…"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.config import settings
from chalicelib.errors import NotFoundError, PayloadTooLargeError, ValidationError
from chalicelib.http.apidoc import PAGE_QUERY, FormField, Query, documented
from chalicelib.http.bodies import parse_body
from chalicelib.http.context import current_request
from chalicelib.http.pagination import page_body, page_request
from chalicelib.http.routes import accepted, authenticated, created, directory_filter
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.accounts.models import UserRecord
    from chalicelib.imports import jobs, schemas
else:
    # Loaded by the first request that needs them, not at cold start.
    schemas = lazy_module("chalicelib.imports.schemas")
    jobs = lazy_module("chalicelib.imports.jobs")

bp = Blueprint(__name__)

MULTIPART = ["multipart/form-data"]


@bp.route("/contacts/import", methods=["POST"], content_types=MULTIPART)
@documented(
    "Import a CSV or XLSX file sent as a form (up to 4 MB)",
    form=(
        FormField("directory_id", "The directory to import into.", required=True),
        FormField("file", "The CSV or XLSX file.", required=True, file=True),
        FormField("sheet", "The workbook's sheet to read (default: found by its header)."),
        FormField(
            "phone_region",
            "Country code (FR, GB…) for phones written without one (default: the server's).",
        ),
    ),
    response=lambda: schemas.ImportJobOut,
    status=202,
    errors=(NotFoundError,),
    description="Larger files: POST /api/contacts/imports for a presigned upload (413 says so).",
)
@authenticated
def upload_import(user: UserRecord) -> Any:
    request = current_request()
    raw = request.raw_body or b""
    body = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    limit = settings().max_upload_bytes
    if len(body) > limit:
        raise PayloadTooLargeError(
            f"This upload is {len(body)} bytes; this route takes up to {limit}. For larger files, "
            "POST /api/contacts/imports {directory_id, filename} and PUT the file to the "
            "returned upload URL."
        )
    from chalicelib.http.multipart import parse_form  # the email package: only for uploads

    form = parse_form(request.headers.get("content-type"), body)
    params: dict[str, str] = dict(request.query_params or {})
    directory_id = (
        form.fields.get("directory_id")
        or form.fields.get("directory")
        or params.get("directory_id")
        or ""
    )
    if not directory_id.strip():
        raise ValidationError.for_field("directory_id", "This field is required.")
    upload = form.files.get("file")
    if upload is None:
        raise ValidationError.for_field("file", "Attach the file in the 'file' field.")
    if not upload.data:
        raise ValidationError.for_field("file", "The file is empty.")
    sheet = form.fields.get("sheet")
    if sheet is not None and len(sheet) > 200:
        raise ValidationError.for_field("sheet", "Use at most 200 characters.")
    job = jobs.create_upload_job(
        user.user_id,
        directory_id.strip(),
        upload.filename,
        sheet=sheet,
        phone_region=form.fields.get("phone_region"),
    )
    jobs.store_upload(job, upload.data, upload.content_type)
    return accepted(jobs.job_out(job))


@bp.route("/imports", methods=["POST"])
@documented(
    "Start an import with a presigned upload, for files of any size",
    body=lambda: schemas.UploadRequestBody,
    response=lambda: schemas.UploadJobOut,
    status=201,
    errors=(NotFoundError,),
    description="PUT the file to `upload.url`; the job starts when the file arrives.",
)
@authenticated
def request_upload(user: UserRecord) -> Any:
    body = parse_body(current_request(), schemas.UploadRequestBody)
    job = jobs.create_upload_job(
        user.user_id,
        body.directory_id,
        body.filename,
        sheet=body.sheet,
        phone_region=body.phone_region,
    )
    return created({**jobs.job_out(job), "upload": jobs.upload_url(job)})


@bp.route("/imports", methods=["GET"])
@documented(
    "A page of a directory's import jobs, newest first",
    response=lambda: schemas.ImportJobPage,
    query=(Query("directory", "The directory's id.", required=True), *PAGE_QUERY),
    errors=(NotFoundError,),
)
@authenticated
def list_imports(user: UserRecord) -> Any:
    request = current_request()
    params: dict[str, str] = dict(request.query_params or {})
    directory_id = directory_filter(params)
    page = jobs.list_jobs(user.user_id, directory_id, page_request(params))
    results = [jobs.job_out(jobs.expire_if_abandoned(job)) for job in page.items]
    return page_body(page, results, request)


@bp.route("/imports/{import_id}", methods=["GET"])
@documented(
    "An import job: status, counts, errors and report", response=lambda: schemas.ImportJobOut
)
@authenticated
def get_import(user: UserRecord, import_id: str) -> Any:
    return jobs.job_out(jobs.get_job(user.user_id, import_id))
