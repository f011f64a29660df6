"""Campaigns through the API: drafts, templates checked on save, queueing once, ownership."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import User

CAMPAIGNS = "/api/campaigns/campaigns"


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory("Newsletter")


def email_campaign(directory: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": "Spring news",
        "channel": "email",
        "subject": "Hello {{ first_name }}",
        "body": "Dear {{ first_name }} of {{ extra.company }},\nour news.",
        "directory": directory,
        **fields,
    }


def create(user: User, body: dict[str, Any]) -> dict[str, Any]:
    status, campaign, _ = user.post(CAMPAIGNS, body)
    assert status == 201, campaign
    return dict(campaign)


def test_can_create_list_get_update_and_delete_a_draft(ana: User, directory: str) -> None:
    campaign = create(ana, email_campaign(directory))
    assert campaign["status"] == "draft"
    assert campaign["stats"] == {"total": 0, "pending": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert (campaign["channel"], campaign["directory"]) == ("email", directory)
    url = f"{CAMPAIGNS}/{campaign['id']}"

    status, page, _ = ana.get(CAMPAIGNS)
    assert status == 200
    assert [c["id"] for c in page["results"]] == [campaign["id"]]

    status, patched, _ = ana.patch(url, {"name": "Summer news"})
    assert status == 200, patched
    assert (patched["name"], patched["subject"]) == ("Summer news", "Hello {{ first_name }}")

    status, replaced, _ = ana.put(
        url,
        {"name": "Texts", "channel": "sms", "body": "Hi {{ first_name }}", "directory": directory},
    )
    assert status == 200, replaced
    assert (replaced["channel"], replaced["subject"]) == ("sms", None)
    assert ana.get(url)[1]["name"] == "Texts"

    assert ana.delete(url)[0] == 204
    assert ana.get(url)[0] == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": "Hello {{ first_name"}, "subject"),
        ({"body": "{% if first_name %}no end"}, "body"),
        ({"body": "{{ extra.company | }}"}, "body"),
    ],
)
def test_error_on_a_template_syntax_error_names_the_field(
    ana: User, directory: str, fields: dict[str, str], field: str
) -> None:
    status, problem, headers = ana.post(CAMPAIGNS, email_campaign(directory, **fields))
    assert status == 400, problem
    assert headers["content-type"].startswith("application/problem+json")
    assert list(problem["errors"]) == [field]
    assert "line 1" in problem["errors"][field][0]

    campaign = create(ana, email_campaign(directory))
    status, problem, _ = ana.patch(f"{CAMPAIGNS}/{campaign['id']}", fields)
    assert status == 400
    assert list(problem["errors"]) == [field]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "x", "channel": "fax", "body": "b", "directory": "d"}, {"channel"}),
        ({"name": " ", "channel": "email", "subject": "s", "body": "b"}, {"name", "directory"}),
        ({"name": "x", "channel": "email", "body": "b", "directory": "D"}, {"subject"}),
        (
            {"name": "x", "channel": "sms", "subject": "s", "body": "b", "directory": "D"},
            {"subject"},
        ),
        ({"name": "x", "channel": "email", "subject": "s", "body": "", "directory": "D"}, {"body"}),
        ({"name": "x", "channel": "email", "subject": "s", "body": 7, "directory": "D"}, {"body"}),
    ],
)
def test_error_on_invalid_fields_names_each(
    ana: User, body: dict[str, Any], fields: set[str]
) -> None:
    status, problem, _ = ana.post(CAMPAIGNS, body)
    assert status == 400, problem
    assert set(problem["errors"]) == fields


def test_error_on_a_directory_of_someone_else(ana: User, bruno: User) -> None:
    theirs = bruno.new_directory()
    status, problem, _ = ana.post(CAMPAIGNS, email_campaign(theirs))
    assert status == 404, problem


def test_another_users_campaign_is_not_found(ana: User, bruno: User, directory: str) -> None:
    campaign = create(ana, email_campaign(directory))
    url = f"{CAMPAIGNS}/{campaign['id']}"
    assert bruno.get(url)[0] == 404
    assert bruno.patch(url, {"name": "mine"})[0] == 404
    assert bruno.post(f"{url}/queue")[0] == 404
    assert bruno.delete(url)[0] == 404
    assert bruno.get(f"/api/campaigns/deliveries?campaign={campaign['id']}")[0] == 404
    assert bruno.get(CAMPAIGNS)[1]["results"] == []
    assert ana.get(url)[1]["status"] == "draft"


def test_queue_answers_202_once_then_409_and_the_campaign_is_frozen(
    ana: User, directory: str
) -> None:
    campaign = create(ana, email_campaign(directory))
    url = f"{CAMPAIGNS}/{campaign['id']}"
    status, queued, _ = ana.post(f"{url}/queue")
    assert status == 202, queued
    assert queued["status"] == "queued"
    status, problem, _ = ana.post(f"{url}/queue")
    assert status == 409
    assert "queued" in problem["detail"]
    assert ana.patch(url, {"name": "late"})[0] == 409
    assert ana.put(url, email_campaign(directory))[0] == 409
    assert ana.delete(url)[0] == 409
    assert ana.get(url)[1]["name"] == "Spring news"


def test_unknown_campaign_ids_are_not_found(ana: User, directory: str) -> None:
    assert ana.get(f"{CAMPAIGNS}/not-an-id")[0] == 404
    assert ana.post(f"{CAMPAIGNS}/01HZZZZZZZZZZZZZZZZZZZZZZZ/queue")[0] == 404


def test_error_on_deliveries_without_a_campaign_or_with_a_bad_status(
    ana: User, directory: str
) -> None:
    status, problem, _ = ana.get("/api/campaigns/deliveries")
    assert status == 400
    assert list(problem["errors"]) == ["campaign"]
    campaign = create(ana, email_campaign(directory))
    status, problem, _ = ana.get(f"/api/campaigns/deliveries?campaign={campaign['id']}&status=x")
    assert status == 400
    assert list(problem["errors"]) == ["status"]


def test_error_on_queueing_a_campaign_whose_directory_was_deleted(
    ana: User, directory: str
) -> None:
    campaign = create(ana, email_campaign(directory))
    assert ana.delete(f"/api/directory/directories/{directory}")[0] == 204
    status, problem, _ = ana.post(f"{CAMPAIGNS}/{campaign['id']}/queue")
    assert status == 409, problem
    assert list(problem["errors"]) == ["directory"]
    assert ana.get(f"{CAMPAIGNS}/{campaign['id']}")[1]["status"] == "draft"


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("Hi {{ first_name }} from {{ extra.company }}", "Hi Zoë from Acme"),
        ("{{ extra.missing }}|{{ extra.missing.deeper }}|{{ phone }}", "||"),
    ],
)
def test_templates_render_contact_fields(source: str, rendered: str) -> None:
    from chalicelib.campaigns.templates import contact_fields, render

    fields = contact_fields("Zoë", "Martin", "zoe@example.com", None, {"company": "Acme"})
    assert render(source, fields) == rendered


def test_error_on_a_template_the_sandbox_refuses_at_render() -> None:
    from chalicelib.campaigns.templates import RenderError, contact_fields, render

    with pytest.raises(RenderError, match="range"):
        render("{{ range(10**7) | list | length }}", contact_fields("a", "b", None, None, {}))


@pytest.mark.parametrize("name", ["Spring\x00news", "Spring\x07news", "Spring\x85news", "A\x7f"])
def test_error_on_a_name_with_control_characters(ana: User, directory: str, name: str) -> None:
    status, problem, _ = ana.post(CAMPAIGNS, email_campaign(directory, name=name))
    assert status == 400, problem
    assert list(problem["errors"]) == ["name"]


def test_name_length_is_the_same_in_the_schema_and_the_service(ana: User, directory: str) -> None:
    _, document, _ = ana.get("/api/schema")
    schemas = document["components"]["schemas"]
    for model in ("CampaignBody", "CampaignFields"):
        name = schemas[model]["properties"]["name"]
        limits = {s.get("maxLength") for s in name.get("anyOf", [name]) if s.get("type") != "null"}
        assert limits == {200}, model
    assert ana.post(CAMPAIGNS, email_campaign(directory, name="n" * 200))[0] == 201
    status, problem, _ = ana.post(CAMPAIGNS, email_campaign(directory, name="n" * 201))
    assert status == 400, problem
    assert list(problem["errors"]) == ["name"]


def test_put_and_patch_are_documented_with_the_bodies_they_take(ana: User) -> None:
    _, document, _ = ana.get("/api/schema")
    item = document["paths"]["/api/campaigns/campaigns/{campaign_id}"]
    refs = {
        method: item[method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for method in ("put", "patch")
    }
    assert refs == {
        "put": "#/components/schemas/CampaignBody",
        "patch": "#/components/schemas/CampaignFields",
    }


def test_error_on_changing_a_draft_whose_directory_was_deleted_names_the_directory(
    ana: User, directory: str
) -> None:
    campaign = create(ana, email_campaign(directory))
    url = f"{CAMPAIGNS}/{campaign['id']}"
    assert ana.delete(f"/api/directory/directories/{directory}")[0] == 204
    status, problem, _ = ana.patch(url, {"name": "Renamed"})
    assert status == 409, problem
    assert list(problem["errors"]) == ["directory"]
    status, problem, _ = ana.put(url, email_campaign(directory))
    assert status == 409, problem
    assert list(problem["errors"]) == ["directory"]
    # Pointing it at another directory mends it.
    other = ana.new_directory("Other")
    status, patched, _ = ana.patch(url, {"directory": other})
    assert status == 200, patched
    assert patched["directory"] == other
