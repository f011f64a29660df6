"""HTTP routes of contacts: /api/contacts/contacts…"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.http.apidoc import PAGE_QUERY, Query, documented
from chalicelib.http.bodies import parse_body
from chalicelib.http.context import current_request
from chalicelib.http.pagination import page_body, page_request
from chalicelib.http.routes import authenticated, created, directory_filter, no_content
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.accounts.models import UserRecord
    from chalicelib.contacts import schemas, service
else:
    # Loaded by the first request that needs them, not at cold start.
    schemas = lazy_module("chalicelib.contacts.schemas")
    service = lazy_module("chalicelib.contacts.service")

bp = Blueprint(__name__)


@bp.route("/contacts", methods=["POST"])
@documented(
    "Add a contact to a directory",
    body=lambda: schemas.ContactCreateBody,
    response=lambda: schemas.ContactOut,
    status=201,
    errors=(NotFoundError, ConflictError),
    description="409 (with `existing_id`) when the directory has a contact with this email.",
)
@authenticated
def create_contact(user: UserRecord) -> Any:
    body = parse_body(current_request(), schemas.ContactCreateBody)
    fields = body.model_dump(exclude_unset=True, exclude={"directory"})
    contact, warnings = service.create_contact(user.user_id, body.directory, fields)
    return created(service.contact_out(contact, warnings))


@bp.route("/contacts", methods=["GET"])
@documented(
    "A page of a directory's contacts",
    response=lambda: schemas.ContactPage,
    query=(Query("directory", "The directory's id.", required=True), *PAGE_QUERY),
    errors=(NotFoundError,),
)
@authenticated
def list_contacts(user: UserRecord) -> Any:
    request = current_request()
    params: dict[str, str] = dict(request.query_params or {})
    directory_id = directory_filter(params)
    page, count = service.list_contacts(user.user_id, directory_id, page_request(params))
    return page_body(page, [service.contact_out(c) for c in page.items], request, count=count)


@bp.route("/contacts/{contact_id}", methods=["GET"])
@documented("A contact", response=lambda: schemas.ContactOut)
@authenticated
def get_contact(user: UserRecord, contact_id: str) -> Any:
    return service.contact_out(service.get_contact(user.user_id, contact_id))


@bp.route("/contacts/{contact_id}", methods=["PUT", "PATCH"])
@documented(
    "Change a contact (PUT: every field, PATCH: those sent)",
    body=lambda: schemas.ContactFields,
    response=lambda: schemas.ContactOut,
    errors=(ConflictError,),
)
@authenticated
def update_contact(user: UserRecord, contact_id: str) -> Any:
    request = current_request()
    body = parse_body(request, schemas.ContactFields)
    contact, warnings = service.update_contact(
        user.user_id,
        contact_id,
        body.model_dump(exclude_unset=True),
        replace=request.method == "PUT",
    )
    return service.contact_out(contact, warnings)


@bp.route("/contacts/{contact_id}", methods=["DELETE"])
@documented("Delete a contact", status=204)
@authenticated
def delete_contact(user: UserRecord, contact_id: str) -> Response:
    service.delete_contact(user.user_id, contact_id)
    return no_content()
