"""C26: forged, `alg: none`, expired and skewed tokens are 401 JSON, never 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from tests.conftest import CASES, JsonClient

SPEC = json.loads((CASES / "C26_jwt_cases.json").read_text(encoding="utf-8"))
CASE_USER = "u-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: Any) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def mint(case: dict[str, Any]) -> str:
    """The token the case describes, minted now (times are offsets from now).

    The case's claims get this product's own claims added (``token_use`` and
    ``ver``), so a well-signed, in-time token is a valid access token here.
    """
    if "raw" in case:
        return str(case["raw"])
    now = int(time.time())
    claims = {k: (now + v if k in ("iat", "exp", "nbf") else v) for k, v in case["claims"].items()}
    claims.update({"token_use": "access", "ver": 0})
    header, payload = _segment(case["header"]), _segment(claims)
    alg = case["header"]["alg"]
    if case["key"] is None:
        signature = ""
    else:
        secret = SPEC["server_config"]["secret"].encode()
        key = secret if case["key"] == "right" else b"some-other-secret"
        digest = hashlib.sha512 if alg == "HS512" else hashlib.sha256
        signature = _b64(hmac.new(key, f"{header}.{payload}".encode(), digest).digest())
    if "tamper" in case:
        payload = _segment({**claims, **case["tamper"]})
    return f"{header}.{payload}.{signature}"


@pytest.fixture
def case_user(aws: None) -> None:
    """The account the case's tokens name (``sub: u-1``)."""
    from chalicelib.accounts.models import UserRecord
    from chalicelib.db import utcnow

    UserRecord(
        CASE_USER,
        email="u1@example.com",
        username="u1",
        password_hash="x",
        token_version=0,
        created_at=utcnow(),
    ).save()


def test_server_config_matches_the_case() -> None:
    from chalicelib.accounts.tokens import ALGORITHM
    from chalicelib.config import jwt_secret, settings

    assert SPEC["server_config"]["algorithms"] == [ALGORITHM]
    assert jwt_secret() == SPEC["server_config"]["secret"]
    assert settings().jwt_leeway_seconds == SPEC["server_config"]["leeway_seconds"]


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_token_case(http: JsonClient, case_user: None, case: dict[str, Any]) -> None:
    status, body, headers = http.get("/api/accounts/me", token=mint(case))
    assert status == case["expect"], body
    if status == 200:
        assert body["id"] == CASE_USER
        return
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 401
    assert body["code"] == case.get("expect_error_code", body["code"])
    assert body["code"] in {"invalid_token", "token_expired"}


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer   ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer " + "a" * 10000,
        "Bearer ä.ö.ü",
        "Bearer \x00",
    ],
)
def test_malformed_authorization_header_is_401(http: JsonClient, header: str) -> None:
    status, body, _ = http.get("/api/accounts/me", headers={"Authorization": header})
    assert status == 401
    assert body["status"] == 401
