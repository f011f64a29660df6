"""Register, login, me, refresh: the account contract of DESIGN.md."""

from __future__ import annotations

import pytest

from tests.conftest import JsonClient, log_in, register_user


def test_can_register_and_see_self(http: JsonClient) -> None:
    user = register_user(http, email="  Ana.Silva@Example.COM ", username="ana")
    assert user["email"] == "ana.silva@example.com"
    assert user["username"] == "ana"
    assert "password" not in user and "password_hash" not in user
    tokens = log_in(http, "ana", "correct horse battery")
    status, me, _ = http.get("/api/accounts/me", token=tokens["access"])
    assert status == 200
    assert me == user


def test_login_accepts_email_in_username_field(http: JsonClient) -> None:
    register_user(http, email="bea@example.com", username="bea")
    assert set(log_in(http, "BEA@example.com", "correct horse battery")) == {"access", "refresh"}
    assert set(log_in(http, "Bea", "correct horse battery")) == {"access", "refresh"}


def test_error_on_taken_email_or_username(http: JsonClient) -> None:
    register_user(http, email="ana@example.com", username="ana")
    status, body, _ = http.post(
        "/api/accounts/register",
        {"email": "ANA@example.com", "username": "other", "password": "correct horse battery"},
    )
    assert (status, list(body["errors"])) == (409, ["email"])
    status, body, _ = http.post(
        "/api/accounts/register",
        {"email": "new@example.com", "username": "ANA", "password": "correct horse battery"},
    )
    assert (status, list(body["errors"])) == (409, ["username"])


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("1234567890", "digits only"),
        ("ana_lopez", "username"),
        ("ana@example.com", "email"),
    ],
)
def test_error_on_weak_password(http: JsonClient, password: str, reason: str) -> None:
    status, body, _ = http.post(
        "/api/accounts/register",
        {"email": "ana@example.com", "username": "ana_lopez", "password": password},
    )
    assert status == 400
    assert reason in " ".join(body["errors"]["password"])


def test_wrong_password_is_401_and_unknown_user_too(http: JsonClient) -> None:
    register_user(http)
    for login in ("ana", "nobody"):
        status, body, headers = http.post(
            "/api/accounts/login", {"username": login, "password": "wrong password"}
        )
        assert (status, body["code"]) == (401, "invalid_credentials")
        assert headers["content-type"] == "application/problem+json"


def test_refresh_rotates_and_a_reused_refresh_token_revokes_all(http: JsonClient) -> None:
    register_user(http)
    first = log_in(http, "ana", "correct horse battery")
    status, second, _ = http.post("/api/accounts/token/refresh", {"refresh": first["refresh"]})
    assert status == 200
    assert second["refresh"] != first["refresh"]
    assert http.get("/api/accounts/me", token=second["access"])[0] == 200
    # The old refresh token again: someone copied it. Every session ends.
    status, body, _ = http.post("/api/accounts/token/refresh", {"refresh": first["refresh"]})
    assert (status, body["code"]) == (401, "token_reused")
    assert http.get("/api/accounts/me", token=second["access"])[0] == 401
    assert http.post("/api/accounts/token/refresh", {"refresh": second["refresh"]})[0] == 401


def test_access_and_refresh_tokens_are_not_interchangeable(http: JsonClient) -> None:
    register_user(http)
    tokens = log_in(http, "ana", "correct horse battery")
    status, body, _ = http.get("/api/accounts/me", token=tokens["refresh"])
    assert (status, body["code"]) == (401, "invalid_token")
    status, body, _ = http.post("/api/accounts/token/refresh", {"refresh": tokens["access"]})
    assert (status, body["code"]) == (401, "invalid_token")


def test_failed_logins_per_account_are_limited(http: JsonClient) -> None:
    from chalicelib.config import settings

    register_user(http)
    for _ in range(settings().login_failures_per_account):
        assert (
            http.post("/api/accounts/login", {"username": "ana", "password": "wrong!!!"})[0] == 401
        )
    status, body, headers = http.post(
        "/api/accounts/login", {"username": "ana", "password": "correct horse battery"}
    )
    assert (status, body["code"]) == (429, "too_many_attempts")
    assert int(headers["retry-after"]) > 0


def test_me_without_token_is_401_problem(http: JsonClient) -> None:
    status, body, headers = http.get("/api/accounts/me")
    assert status == 401
    assert headers["content-type"] == "application/problem+json"
    assert headers["www-authenticate"].startswith("Bearer")
    assert set(body) >= {"type", "title", "status", "detail"}


def test_paths_work_with_a_trailing_slash(http: JsonClient) -> None:
    status, _, _ = http.post(
        "/api/accounts/register/",
        {"email": "slash@example.com", "username": "slash", "password": "correct horse battery"},
    )
    assert status == 201
