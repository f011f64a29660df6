"""HTTP routes of campaigns: /api/campaigns/campaigns… and /api/campaigns/deliveries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.http.apidoc import PAGE_QUERY, Query, documented
from chalicelib.http.bodies import parse_body
from chalicelib.http.context import current_request
from chalicelib.http.pagination import page_body, page_request
from chalicelib.http.routes import accepted, authenticated, created, no_content
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.accounts.models import UserRecord
    from chalicelib.campaigns import schemas, service
else:
    # Loaded by the first request that needs them, not at cold start.
    schemas = lazy_module("chalicelib.campaigns.schemas")
    service = lazy_module("chalicelib.campaigns.service")

bp = Blueprint(__name__)


@bp.route("/campaigns", methods=["POST"])
@documented(
    "Create a campaign (a draft) to a directory",
    body=lambda: schemas.CampaignBody,
    response=lambda: schemas.CampaignOut,
    status=201,
    errors=(NotFoundError,),
    description="`subject` (email only) and `body` are Jinja2 templates over the contact's "
    "`first_name`, `last_name`, `email`, `phone` and `extra.<key>`; a syntax error is a 400 "
    "naming the field.",
)
@authenticated
def create_campaign(user: UserRecord) -> Any:
    body = parse_body(current_request(), schemas.CampaignBody)
    campaign = service.create_campaign(user.user_id, body.model_dump())
    return created(service.campaign_out(campaign))


@bp.route("/campaigns", methods=["GET"])
@documented("A page of your campaigns", response=lambda: schemas.CampaignPage, query=PAGE_QUERY)
@authenticated
def list_campaigns(user: UserRecord) -> Any:
    request = current_request()
    page = service.list_campaigns(user.user_id, page_request(request.query_params))
    return page_body(page, [service.campaign_out(c) for c in page.items], request)


@bp.route("/campaigns/{campaign_id}", methods=["GET"])
@documented("A campaign, with its status and stats", response=lambda: schemas.CampaignOut)
@authenticated
def get_campaign(user: UserRecord, campaign_id: str) -> Any:
    return service.campaign_out(service.get_campaign(user.user_id, campaign_id))


# PUT and PATCH take different bodies, so each has its own view and its own doc.
@bp.route("/campaigns/{campaign_id}", methods=["PUT"])
@documented(
    "Replace a draft campaign",
    body=lambda: schemas.CampaignBody,
    response=lambda: schemas.CampaignOut,
    errors=(ConflictError,),
    description="Every field of a new campaign; 409 once the campaign is queued, or when its "
    "directory was deleted (`directory` names it).",
)
@authenticated
def replace_campaign(user: UserRecord, campaign_id: str) -> Any:
    fields = parse_body(current_request(), schemas.CampaignBody).model_dump()
    campaign = service.update_campaign(user.user_id, campaign_id, fields, replace=True)
    return service.campaign_out(campaign)


@bp.route("/campaigns/{campaign_id}", methods=["PATCH"])
@documented(
    "Change some fields of a draft campaign",
    body=lambda: schemas.CampaignFields,
    response=lambda: schemas.CampaignOut,
    errors=(ConflictError,),
    description="Only the fields sent change; 409 once the campaign is queued, or when its "
    "directory was deleted (`directory` names it).",
)
@authenticated
def update_campaign(user: UserRecord, campaign_id: str) -> Any:
    fields = parse_body(current_request(), schemas.CampaignFields).model_dump(exclude_unset=True)
    campaign = service.update_campaign(user.user_id, campaign_id, fields, replace=False)
    return service.campaign_out(campaign)


@bp.route("/campaigns/{campaign_id}", methods=["DELETE"])
@documented(
    "Delete a draft campaign",
    status=204,
    errors=(ConflictError,),
    description="409 once the campaign is queued.",
)
@authenticated
def delete_campaign(user: UserRecord, campaign_id: str) -> Response:
    service.delete_campaign(user.user_id, campaign_id)
    return no_content()


@bp.route("/campaigns/{campaign_id}/queue", methods=["POST"])
@documented(
    "Queue a campaign: one delivery per contact, sent in the background",
    response=lambda: schemas.CampaignOut,
    status=202,
    errors=(ConflictError,),
    description="Answers at once whatever the directory's size; a second call is 409.",
)
@authenticated
def queue_campaign(user: UserRecord, campaign_id: str) -> Any:
    return accepted(service.campaign_out(service.queue_campaign(user.user_id, campaign_id)))


@bp.route("/deliveries", methods=["GET"])
@documented(
    "A page of a campaign's deliveries, optionally of one status",
    response=lambda: schemas.DeliveryPage,
    query=(
        Query("campaign", "The campaign's id.", required=True),
        Query(
            "status",
            "Only deliveries in this status.",
            enum=("pending", "sent", "failed", "skipped"),
        ),
        *PAGE_QUERY,
    ),
    errors=(NotFoundError,),
)
@authenticated
def list_deliveries(user: UserRecord) -> Any:
    request = current_request()
    params: dict[str, str] = dict(request.query_params or {})
    campaign_id = params.get("campaign")
    if not campaign_id:
        raise ValidationError.for_field("campaign", "Say which campaign: ?campaign=<id>.")
    status = params.get("status") or None
    page, campaign = service.list_deliveries(
        user.user_id, campaign_id, status, page_request(params)
    )
    results = [service.delivery_out(d) for d in page.items]
    # The campaign's counters give the count of any listing without a filter.
    count = int(campaign.total) if status is None else None
    return page_body(page, results, request, count=count)
