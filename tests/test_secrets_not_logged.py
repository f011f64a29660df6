"""Passwords, tokens, reset codes and the JWT secret never reach the logs."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from tests.conftest import TEST_ENV, JsonClient, log_in, register_user, run_queue, sent_emails

PASSWORD = "first secret passphrase"
NEW_PASSWORD = "second secret passphrase"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line, formatted as deployed (JSON), our DEBUG lines and the libraries' INFO."""
    from chalicelib import logs

    logs.configure()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs._formatter)
    ours, root = logging.getLogger(logs.ROOT), logging.getLogger()
    levels = (ours.level, root.level)
    ours.addHandler(handler)
    root.addHandler(handler)
    ours.setLevel(logging.DEBUG)
    root.setLevel(logging.INFO)
    yield stream
    ours.removeHandler(handler)
    root.removeHandler(handler)
    ours.setLevel(levels[0])
    root.setLevel(levels[1])


def test_account_flows_log_no_secret(http: JsonClient, captured_logs: io.StringIO) -> None:
    register_user(http, email="vera@example.com", username="vera", password=PASSWORD)
    tokens = log_in(http, "vera", PASSWORD)
    http.post("/api/accounts/login", {"username": "vera", "password": "a wrong passphrase"})
    _, refreshed, _ = http.post("/api/accounts/token/refresh", {"refresh": tokens["refresh"]})
    # A reused refresh token is logged as an incident: without the token.
    http.post("/api/accounts/token/refresh", {"refresh": tokens["refresh"]})
    http.get("/api/accounts/me", token=tokens["access"] + "tampered")
    http.post("/api/accounts/password/reset/request", {"email": "vera@example.com"})
    run_queue("notifications")
    code = re.findall(r"\b\d{6}\b", sent_emails()[-1].body)[0]
    http.post(
        "/api/accounts/password/reset/confirm",
        {
            "email": "vera@example.com",
            "code": "000000" if code != "000000" else "111111",
            "new_password": NEW_PASSWORD,
        },
    )
    status, _, _ = http.post(
        "/api/accounts/password/reset/confirm",
        {"email": "vera@example.com", "code": code, "new_password": NEW_PASSWORD},
    )
    assert status == 200

    logged = captured_logs.getvalue()
    assert "logged in" in logged and "reset code sent" in logged  # the flow did log
    secrets = {
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "access token": tokens["access"],
        "refresh token": tokens["refresh"],
        "rotated refresh token": refreshed["refresh"],
        "reset code": code,
        "JWT secret": TEST_ENV["JWT_SECRET"],
    }
    for name, secret in secrets.items():
        assert secret not in logged, f"the {name} was logged"
    # Token pieces too: a JWT's signature alone is a secret worth hiding.
    assert tokens["access"].split(".")[2] not in logged
