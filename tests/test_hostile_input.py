"""No request a client can send yields a 500 on the accounts routes.

Every hostile body is sent to every route; each answer must be a 4xx
problem+json (or a success when the body happens to be valid).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import JsonClient

ROUTES = [
    ("/api/accounts/register", ["email", "username", "password"]),
    ("/api/accounts/login", ["username", "email", "password"]),
    ("/api/accounts/token/refresh", ["refresh"]),
    ("/api/accounts/password/reset/request", ["email"]),
    ("/api/accounts/password/reset/confirm", ["email", "user_id", "code", "new_password"]),
]

RAW_BODIES: list[bytes] = [
    b"",
    b"   ",
    b"not json",
    b"{",
    b"[]",
    b"null",
    b"123",
    b'"a string"',
    b'{"email": "\xff\xfe"}',  # not UTF-8
    b'{"email": "\\ud800", "username": "\\udfff", "password": "\\ud83d"}',  # lone surrogates
    b"[" * 100_000 + b"]" * 100_000,  # nested too deeply for any parser
    b'{"email": 1e999, "password": -1e999}',
    b'{"email": "a@b.co", "email": "c@d.co"}',
    b"\xef\xbb\xbf{}",  # a byte-order mark
    b"x" * 2_000_000,  # over the body limit
]

VALUES = [
    None,
    1,
    -1,
    1.5,
    True,
    [],
    ["a"],
    {},
    {"$ne": ""},
    "",
    " ",
    "\u0000",
    "a" * 5000,
    "a" * 100_000,
    "🔑" * 500,
    "مرحبا بالعالم",
    "שלום\u202eעולם",
    "Zoë Ñúñez 山田太郎",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "a@b",
    "@",
    "a@" + "b" * 300 + ".com",
]


def bodies(fields: list[str]) -> list[bytes]:
    out = list(RAW_BODIES)
    for value in VALUES:
        out.append(json.dumps({field: value for field in fields}).encode())
        for field in fields:
            base = {f: "valid-looking-text@example.com" for f in fields}
            base[field] = value
            out.append(json.dumps(base).encode())
    return out


def assert_problem(status: int, body: object, headers: dict[str, str], sent: bytes) -> None:
    assert status < 500, (status, body, sent[:200])
    if status >= 400:
        assert headers["content-type"] == "application/problem+json", (status, sent[:200])
        assert isinstance(body, dict) and body["status"] == status


@pytest.mark.parametrize(("path", "fields"), ROUTES, ids=[r[0] for r in ROUTES])
def test_no_body_yields_a_500(http: JsonClient, path: str, fields: list[str]) -> None:
    for raw in bodies(fields):
        status, body, headers = http.post(path, raw=raw)
        assert_problem(status, body, headers, raw)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml"]
)
def test_wrong_content_type_is_415_problem(http: JsonClient, content_type: str) -> None:
    status, _body, headers = http.post(
        "/api/accounts/login", raw=b"{}", headers={"Content-Type": content_type}
    )
    assert status == 415
    assert headers["content-type"] == "application/problem+json"


def test_huge_body_is_413_naming_the_limit(http: JsonClient) -> None:
    status, body, _ = http.post("/api/accounts/register", raw=b" " * 300_000 + b"{}")
    assert status == 413
    assert "262144" in body["detail"]


def test_wrong_type_names_the_field(http: JsonClient) -> None:
    status, body, _ = http.post(
        "/api/accounts/register", {"email": "a@example.com", "username": 7, "password": None}
    )
    assert status == 400
    assert set(body["errors"]) == {"username", "password"}


def test_wrong_method_is_405_problem(http: JsonClient) -> None:
    status, _body, headers = http.request("DELETE", "/api/accounts/login")
    assert status == 405
    assert headers["content-type"] == "application/problem+json"
