"""Register, login, me, refresh: the account contract of DESIGN.md."""

from __future__ import annotations

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
