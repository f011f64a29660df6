"""C28: reset codes resist guessing and do not tell which emails have accounts."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest

from tests.conftest import CASES, JsonClient, log_in, register_user, run_queue, sent_emails

SPEC = json.loads((CASES / "C28_reset_flow.json").read_text(encoding="utf-8"))
ZOE = SPEC["seed_users"][0]
PASSWORD = "an old long passphrase"
REQUEST = "/api/accounts/password/reset/request"
CONFIRM = "/api/accounts/password/reset/confirm"


@pytest.fixture
def zoe(http: JsonClient) -> dict[str, str]:
    return register_user(http, email=ZOE, username="zoe", password=PASSWORD)


def request_code(http: JsonClient, email: str = ZOE) -> str:
    """Ask for a code, let the notifications worker run, read the code from the email."""
    before = len(sent_emails())
    status, _, _ = http.post(REQUEST, {"email": email})
    assert status == 202
    run_queue("notifications")
    emails = sent_emails()[before:]
    assert len(emails) == 1
    match = re.search(r"\b(\d{6})\b", emails[0].body)
    assert match, emails[0].body
    return match.group(1)


def wrong_codes(real: str, count: int) -> list[str]:
    """The case's guesses, skipping any that happens to be the real code."""
    guesses = [f"{n:06d}" for n in range(100001, 100001 + count + 1) if f"{n:06d}" != real]
    return guesses[:count]


def confirm(http: JsonClient, code: str, new_password: str = "a brand new passphrase") -> int:
    status, _, _ = http.post(CONFIRM, {"email": ZOE, "code": code, "new_password": new_password})
    return status


def test_request_answer_is_identical_for_known_and_unknown_emails(
    http: JsonClient, zoe: dict[str, str]
) -> None:
    checks = [step["body"]["email"] for step in SPEC["enumeration_checks"] if "body" in step]
    answers = []
    best = dict.fromkeys(checks, float("inf"))
    # The first call of a process builds clients; warm up, then keep each
    # address's fastest of a few rounds so the machine's noise cancels out.
    http.post(REQUEST, {"email": "warm.up@example.com"})
    for _ in range(3):
        for email in checks:
            started = time.perf_counter()
            response = http.client.http.post(
                REQUEST,
                headers={"Content-Type": "application/json"},
                body=json.dumps({"email": email}),
            )
            best[email] = min(best[email], time.perf_counter() - started)
            answers.append((response.status_code, response.body, sorted(response.headers.items())))
    timings = list(best.values())
    assert answers[0][0] == 202
    assert all(answer == answers[0] for answer in answers)
    assert max(timings) - min(timings) < 0.1
    # Only the real account gets an email; the upper-case spelling is the same account.
    run_queue("notifications")
    assert {tuple(e.to) for e in sent_emails()} == {(ZOE,)}


def test_five_wrong_codes_end_the_code(http: JsonClient, zoe: dict[str, str]) -> None:
    real = request_code(http)
    steps = [s for s in SPEC["brute_force_sequence"] if "expect_status" in s]
    guesses = iter(wrong_codes(real, len(steps)))
    for step in steps:
        code = real if step["body"]["otp"] == "<the real OTP>" else next(guesses)
        assert confirm(http, code) == step["expect_status"], step
    # The old password still works; the dead code changed nothing.
    log_in(http, ZOE, PASSWORD)


def test_right_code_changes_password_once_and_revokes_tokens(
    http: JsonClient, zoe: dict[str, str]
) -> None:
    old_tokens = log_in(http, "zoe", PASSWORD)
    code = request_code(http)
    assert confirm(http, code) == 200
    assert confirm(http, code, "yet another passphrase") == 400  # single use
    status, body, _ = http.post("/api/accounts/login", {"username": "zoe", "password": PASSWORD})
    assert status == 401
    log_in(http, "zoe", "a brand new passphrase")
    status, body, _ = http.get("/api/accounts/me", token=old_tokens["access"])
    assert (status, body["code"]) == (401, "token_revoked")
    status, body, _ = http.post("/api/accounts/token/refresh", {"refresh": old_tokens["refresh"]})
    assert status == 401


def test_a_newer_code_replaces_the_older(http: JsonClient, zoe: dict[str, str]) -> None:
    first = request_code(http)
    second = request_code(http)
    if first != second:
        assert confirm(http, first) == 400
    assert confirm(http, second) == 200


def test_code_expires_after_ten_minutes(http: JsonClient, zoe: dict[str, str]) -> None:
    from chalicelib.accounts.models import ResetCodeRecord
    from chalicelib.db import utcnow

    code = request_code(http)
    record = ResetCodeRecord.get(zoe["id"])
    lifetime = record.expires_at - utcnow()
    assert timedelta(minutes=9, seconds=50) < lifetime <= timedelta(minutes=10)
    # Ten minutes and a second later:
    record.update(actions=[ResetCodeRecord.expires_at.set(utcnow() - timedelta(seconds=1))])
    assert confirm(http, code) == 400


def test_code_is_stored_hashed(http: JsonClient, zoe: dict[str, str]) -> None:
    from chalicelib.accounts.models import ResetCodeRecord

    code = request_code(http)
    stored = next(iter(ResetCodeRecord.scan()))
    assert code not in json.dumps(stored.to_simple_dict())
    assert len(stored.code_hash) == 64


def test_requests_per_address_are_limited(http: JsonClient, zoe: dict[str, str]) -> None:
    for _ in range(5):
        status, _, _ = http.post(REQUEST, {"email": ZOE})
        assert status == 202
    run_queue("notifications")
    assert len(sent_emails()) == 3  # 3 per 15 minutes; the rest answered alike, sent nothing


def test_unknown_account_confirm_looks_like_a_wrong_code(http: JsonClient) -> None:
    status, body, _ = http.post(
        CONFIRM,
        {"email": "nobody.here@example.com", "code": "123456", "new_password": "whatever long"},
    )
    assert (status, body["code"]) == (400, "invalid_reset_code")


def test_confirm_without_email_or_user_id_names_the_field(http: JsonClient) -> None:
    status, body, _ = http.post(CONFIRM, {"code": "123456", "new_password": "whatever long"})
    assert status == 400
    assert "email" in body["errors"]


def test_confirm_by_user_id(http: JsonClient, zoe: dict[str, str]) -> None:
    code = request_code(http)
    status, _, _ = http.post(
        CONFIRM, {"user_id": zoe["id"], "code": code, "new_password": "a brand new passphrase"}
    )
    assert status == 200


def test_a_code_arriving_mid_confirm_gives_400_not_429(
    http: JsonClient, zoe: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong try against no code, racing a new code's arrival, is a plain wrong code."""
    from chalicelib.accounts import reset
    from chalicelib.accounts.models import ResetCodeRecord
    from chalicelib.db import utcnow

    original_get = ResetCodeRecord.get

    def get_after_new_code_arrives(*args: object, **kwargs: object) -> ResetCodeRecord:
        ResetCodeRecord(
            zoe["id"], code_hash="0" * 64, attempts=0, expires_at=utcnow() + timedelta(minutes=10)
        ).save()
        return original_get(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reset.ResetCodeRecord, "get", get_after_new_code_arrives)
    assert confirm(http, "000000") == 400
