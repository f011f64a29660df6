"""CORS: the configured browser origins may call the API, and see its errors too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import JsonClient, User

ALLOWED = "https://crm.example.com"


def test_allowed_origin_can_read_a_success(ana: User) -> None:
    status, _, headers = ana.get("/api/accounts/me", headers={"Origin": ALLOWED})
    assert status == 200
    assert headers["access-control-allow-origin"] == ALLOWED
    assert headers["vary"] == "Origin"
    assert "Retry-After" in headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/accounts/me", None, 401),
        ("POST", "/api/accounts/register", {"email": "x"}, 400),
        ("DELETE", "/api/accounts/me", None, 405),
        ("POST", "/api/accounts/login", {"username": "nobody", "password": "wrong one"}, 401),
    ],
)
def test_allowed_origin_can_read_errors(
    http: JsonClient, method: str, path: str, body: Any, status: int
) -> None:
    got, problem, headers = http.request(method, path, body, headers={"Origin": ALLOWED})
    assert got == status
    assert headers["content-type"] == "application/problem+json"
    assert problem["status"] == status
    assert headers["access-control-allow-origin"] == ALLOWED


def test_second_configured_origin_is_allowed_too(http: JsonClient) -> None:
    _, _, headers = http.get("/api/accounts/me", headers={"Origin": "https://admin.example.com"})
    assert headers["access-control-allow-origin"] == "https://admin.example.com"


def test_other_origins_get_no_cors_headers(http: JsonClient) -> None:
    _, _, headers = http.get("/api/accounts/me", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers
    assert headers["vary"] == "Origin"


def test_can_preflight_a_route_from_an_allowed_origin(api: Any) -> None:
    response = api.http.request(
        "OPTIONS",
        "/api/contacts/contacts/some-id",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert response.status_code == 204
    assert headers["access-control-allow-origin"] == ALLOWED
    assert headers["access-control-allow-methods"] == "DELETE, GET, OPTIONS, PATCH, PUT"
    assert headers["access-control-allow-headers"] == "Authorization, Content-Type"


def test_preflight_from_another_origin_allows_nothing(api: Any) -> None:
    response = api.http.request(
        "OPTIONS", "/api/accounts/login", headers={"Origin": "https://evil.example"}
    )
    headers = {k.lower() for k in response.headers}
    assert "access-control-allow-origin" not in headers
    assert "access-control-allow-methods" not in headers


def test_every_answer_forbids_content_sniffing(http: JsonClient, ana: User) -> None:
    for status, _, headers in (ana.get("/api/accounts/me"), http.get("/api/accounts/me")):
        assert headers["x-content-type-options"] == "nosniff", status
