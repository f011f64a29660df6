"""The API's own description: /api/schema, /api/docs, /api/redoc."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import JsonClient


def test_every_route_of_the_app_is_in_the_schema(http: JsonClient) -> None:
    from app import app
    from chalicelib.http.cors import is_preflight

    status, document, headers = http.get("/api/schema")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert document["openapi"].startswith("3.1")
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if is_preflight(entry.view_function):
                continue
            operation = document["paths"][path][method.lower()]
            assert operation["summary"], (method, path)
            assert operation["responses"], (method, path)


def test_schema_is_valid_openapi(http: JsonClient) -> None:
    from openapi_spec_validator import validate

    _, document, _ = http.get("/api/schema")
    validate(document)


def test_schema_describes_bodies_responses_and_errors(http: JsonClient) -> None:
    _, document, _ = http.get("/api/schema")
    register = document["paths"]["/api/accounts/register"]["post"]
    body = register["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RegisterBody"}
    assert set(register["responses"]) == {"201", "400", "409", "413", "415"}
    problem = register["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    me = document["paths"]["/api/accounts/me"]["get"]
    assert me["security"] == [{"bearer": []}] and "401" in me["responses"]
    assert register["security"] == []
    contact = document["paths"]["/api/contacts/contacts/{contact_id}"]["get"]
    assert "404" in contact["responses"]
    listing = document["paths"]["/api/contacts/contacts"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"directory", "cursor", "page_size"}
    schemas = document["components"]["schemas"]
    assert {"ContactOut", "ContactPage", "Problem", "ImportJobOut"} <= set(schemas)
    upload = document["paths"]["/api/contacts/contacts/import"]["post"]["requestBody"]
    assert "multipart/form-data" in upload["content"]


def test_schema_names_the_server_as_the_client_called_it(http: JsonClient) -> None:
    _, document, _ = http.get("/api/schema", headers={"Host": "crm.example.com"})
    assert document["servers"] == [{"url": "http://crm.example.com"}]


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_can_open_the_docs_pages_with_pinned_checked_scripts(api: Any, page: str) -> None:
    response = api.http.get(page)
    assert response.status_code == 200
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers["content-type"].startswith("text/html")
    html = response.body.decode("utf-8")
    scripts = re.findall(r'<script src="([^"]+)"\s+integrity="(sha384-[^"]+)"', html)
    assert scripts, html
    for url, _ in scripts:
        assert re.match(r"https://cdn\.jsdelivr\.net/npm/[a-z-]+@\d+\.\d+\.\d+/", url)
    assert "/api/schema" in html
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_swagger_ui_inline_script_is_allowed_by_its_hash(api: Any) -> None:
    import base64
    import hashlib

    html = api.http.get("/api/docs").body.decode("utf-8")
    inline = re.search(r"<script>(.*?)</script>", html, re.S)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    policy = api.http.get("/api/docs").headers["Content-Security-Policy"]
    assert f"'sha256-{digest}'" in policy


def test_error_on_a_route_without_documentation() -> None:
    from chalice.app import Chalice

    from chalicelib.http.routes import public
    from chalicelib.openapi.document import UndocumentedRouteError, build_document

    app = Chalice(app_name="undocumented")

    @app.route("/api/secret-feature", methods=["GET"])
    @public
    def secret_feature() -> dict[str, str]:
        return {}

    with pytest.raises(UndocumentedRouteError, match="GET /api/secret-feature"):
        build_document(app)


def test_error_on_documenting_a_route_that_is_neither_public_nor_authenticated() -> None:
    from chalicelib.http.apidoc import documented

    with pytest.raises(TypeError, match="@public or @authenticated"):

        @documented("Nothing")
        def view() -> None:
            return None


def test_a_file_route_can_document_each_type_it_sends() -> None:
    from chalice.app import Chalice

    from chalicelib.http.apidoc import documented
    from chalicelib.http.routes import public
    from chalicelib.openapi.document import build_document

    app = Chalice(app_name="files")

    @app.route("/api/report", methods=["GET"])
    @documented("A report", media_type=("text/csv", "application/pdf"))
    @public
    def report() -> str:
        return ""

    content = build_document(app)["paths"]["/api/report"]["get"]["responses"]["200"]["content"]
    assert content == {
        "text/csv": {"schema": {"type": "string", "contentMediaType": "text/csv"}},
        "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}},
    }
