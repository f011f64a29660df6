"""What the API answers before any route runs, on the local stack as on a deployed stage."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

LOCAL_ORIGIN = "http://localhost:3000"  # in the local stage's CORS_ALLOWED_ORIGINS


def test_unknown_path_is_a_404_problem_a_browser_can_read(local_stack: LocalStack) -> None:
    response = local_stack.call("GET", "/api/no/such/thing", headers={"Origin": LOCAL_ORIGIN})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert response.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_browser_can_preflight_and_call_from_an_allowed_origin(local_stack: LocalStack) -> None:
    preflight = local_stack.call(
        "OPTIONS",
        "/api/accounts/login",
        headers={"Origin": LOCAL_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    login = local_stack.call(
        "POST",
        "/api/accounts/login",
        json={"username": "nobody", "password": "not a password"},
        headers={"Origin": LOCAL_ORIGIN},
    )
    assert login.status_code == 401
    assert login.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
