"""C27: bcrypt's 72-byte limit is enforced in UTF-8 bytes, never by truncation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CASES, JsonClient

SPEC = json.loads((CASES / "C27_password_cases.json").read_text(encoding="utf-8"))
CASES_BY_NAME = {case["name"]: case for case in SPEC["cases"]}
EDGE = CASES_BY_NAME["exactly 72 bytes is fine"]["body"]


def signup(http: JsonClient, body: dict[str, Any]) -> tuple[int, Any]:
    username = body["email"].split("@")[0].replace(".", "_")
    status, data, _ = http.post("/api/accounts/register", {**body, "username": username})
    return status, data


@pytest.fixture
def edge_user(http: JsonClient) -> None:
    assert len(EDGE["password"].encode()) == 72
    status, body = signup(http, EDGE)
    assert status == 201, body


@pytest.mark.parametrize("name", ["73 ASCII bytes at signup", "30 emoji = 30 chars but 120 bytes"])
def test_signup_over_72_bytes_is_refused(http: JsonClient, name: str) -> None:
    case = CASES_BY_NAME[name]
    status, body = signup(http, case["body"])
    assert status == case["expect_status"] == 400
    assert "password" in body["errors"]
    assert "72 bytes" in body["errors"]["password"][0]


def test_exactly_72_bytes_signs_up_and_logs_in(http: JsonClient, edge_user: None) -> None:
    status, body, _ = http.post(
        "/api/accounts/login", {"email": EDGE["email"], "password": EDGE["password"]}
    )
    assert status == 200, body
    assert set(body) == {"access", "refresh"}


@pytest.mark.parametrize(
    "name", ["login with 1000-char password", "same first 72 bytes, different tail"]
)
def test_long_login_password_is_401_not_a_prefix_match(
    http: JsonClient, edge_user: None, name: str
) -> None:
    case = CASES_BY_NAME[name]
    status, body, _ = http.post("/api/accounts/login", case["body"])
    assert status == case["expect_status"] == 401
    assert body["code"] == "invalid_credentials"


def test_reset_to_100_bytes_is_refused(http: JsonClient, edge_user: None) -> None:
    case = CASES_BY_NAME["reset password to 100 bytes"]
    body = {
        "email": case["body"]["email"],
        "code": "123456",
        "new_password": case["body"]["new_password"],
    }
    status, data, _ = http.post("/api/accounts/password/reset/confirm", body)
    assert status == case["expect_status"] == 400
    assert "new_password" in data["errors"]
