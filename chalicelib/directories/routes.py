"""HTTP routes of directories: /api/directory/directories…"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.errors import ValidationError
from chalicelib.http.apidoc import PAGE_QUERY, documented
from chalicelib.http.bodies import parse_body
from chalicelib.http.context import current_request
from chalicelib.http.pagination import page_body, page_request
from chalicelib.http.routes import authenticated, created, no_content
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.accounts.models import UserRecord
    from chalicelib.contacts import schemas
    from chalicelib.directories import service
else:
    # Loaded by the first request that needs them, not at cold start.
    schemas = lazy_module("chalicelib.contacts.schemas")
    service = lazy_module("chalicelib.directories.service")

bp = Blueprint(__name__)


@bp.route("/directories", methods=["POST"])
@documented(
    "Create a directory (a contact list)",
    body=lambda: schemas.DirectoryBody,
    response=lambda: schemas.DirectoryOut,
    status=201,
)
@authenticated
def create_directory(user: UserRecord) -> Any:
    body = parse_body(current_request(), schemas.DirectoryBody)
    return created(service.directory_out(service.create_directory(user.user_id, body.name)))


@bp.route("/directories", methods=["GET"])
@documented("A page of your directories", response=lambda: schemas.DirectoryPage, query=PAGE_QUERY)
@authenticated
def list_directories(user: UserRecord) -> Any:
    request = current_request()
    page = service.list_directories(user.user_id, page_request(request.query_params))
    return page_body(page, [service.directory_out(d) for d in page.items], request)


@bp.route("/directories/{directory_id}", methods=["GET"])
@documented("A directory", response=lambda: schemas.DirectoryOut)
@authenticated
def get_directory(user: UserRecord, directory_id: str) -> Any:
    return service.directory_out(service.get_directory(user.user_id, directory_id))


@bp.route("/directories/{directory_id}", methods=["PUT", "PATCH"])
@documented(
    "Rename a directory",
    body=lambda: schemas.DirectoryPatchBody,
    response=lambda: schemas.DirectoryOut,
)
@authenticated
def update_directory(user: UserRecord, directory_id: str) -> Any:
    request = current_request()
    body = parse_body(request, schemas.DirectoryPatchBody)
    if body.name is None and request.method == "PUT":
        raise ValidationError.for_field("name", "This field is required.")
    if body.name is None:
        return service.directory_out(service.get_directory(user.user_id, directory_id))
    return service.directory_out(service.rename_directory(user.user_id, directory_id, body.name))


@bp.route("/directories/{directory_id}", methods=["DELETE"])
@documented(
    "Delete a directory and its contacts",
    status=204,
    description="The contacts disappear at once; a background worker purges them.",
)
@authenticated
def delete_directory(user: UserRecord, directory_id: str) -> Response:
    service.delete_directory(user.user_id, directory_id)
    return no_content()
