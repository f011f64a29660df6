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


def test_token_responses_are_not_cached(http: JsonClient) -> None:
    register_user(http)
    status, _, headers = http.post(
        "/api/accounts/login", {"username": "ana", "password": "correct horse battery"}
    )
    assert (status, headers["cache-control"]) == (200, "no-store")


def test_overlong_login_name_is_400_not_500(http: JsonClient) -> None:
    for body in (
        {"username": "u" * 2020, "password": "whatever12"},
        {"email": "é" * 1100, "password": "whatever12"},
    ):
        status, problem, _ = http.post("/api/accounts/login", body)
        assert status == 400
        assert set(problem["errors"]) & {"username", "email"}


def test_look_alike_usernames_are_the_same_account(http: JsonClient) -> None:
    register_user(http, email="bob@example.com", username="bob")
    for twin in ("ｂｏｂ", "𝐛𝐨𝐛", "BOB"):
        status, problem, _ = http.post(
            "/api/accounts/register",
            {
                "email": f"{len(twin)}x@example.com",
                "username": twin,
                "password": "correct horse battery",
            },
        )
        assert (status, list(problem["errors"])) == (409, ["username"]), twin


def test_login_by_email_matches_registration_normalisation(http: JsonClient) -> None:
    register_user(http, email="carol@example.com", username="carol")
    assert log_in(http, "carol@ｅｘａｍｐｌｅ.com", "correct horse battery")


def test_parallel_wrong_passwords_cannot_pass_the_limit(http: JsonClient) -> None:
    """Each attempt is counted before its password is checked."""
    from chalicelib import ratelimit
    from chalicelib.config import settings

    user = register_user(http)
    limit = settings().login_failures_per_account
    # As if `limit` guesses were in flight at once: all counted, none checked yet.
    ratelimit.hit("login", user["id"], window_minutes=settings().rate_window_minutes, amount=limit)
    status, body, _ = http.post(
        "/api/accounts/login", {"email": "ana@example.com", "password": "correct horse battery"}
    )
    assert (status, body["code"]) == (429, "too_many_attempts")


def test_reset_confirm_does_not_reveal_the_username(http: JsonClient) -> None:
    register_user(http, email="victim@example.com", username="victimname")
    status, body, _ = http.post(
        "/api/accounts/password/reset/confirm",
        {"email": "victim@example.com", "code": "000000", "new_password": "victimname"},
    )
    assert (status, body["code"]) == (400, "invalid_reset_code")
