"""Campaigns on the real local stack: import, queue, and every message on the console once."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack
from tests.e2e.test_imports_flow import sign_in, wait_for_jobs

pytestmark = pytest.mark.e2e

PEOPLE = 12


def wait_until_finished(stack: LocalStack, auth: dict[str, str], campaign: str) -> Any:
    deadline = time.monotonic() + 90
    body: Any = None
    while time.monotonic() < deadline:
        body = stack.call("GET", f"/api/campaigns/campaigns/{campaign}", headers=auth).json()
        if body["status"] not in ("queued", "sending"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"campaign did not finish: {body}")


def queue(stack: LocalStack, auth: dict[str, str], fields: dict[str, Any]) -> str:
    created = stack.call("POST", "/api/campaigns/campaigns", headers=auth, json=fields)
    assert created.status_code == 201, created.text
    campaign = created.json()["id"]
    response = stack.call("POST", f"/api/campaigns/campaigns/{campaign}/queue", headers=auth)
    assert response.status_code == 202, response.text
    return str(campaign)


def test_import_then_email_and_sms_campaigns_reach_every_contact_once(
    local_stack: LocalStack,
) -> None:
    import boto3

    auth = sign_in(local_stack, "marketer")
    directory = local_stack.call(
        "POST", "/api/directory/directories", headers=auth, json={"name": "Subscribers"}
    ).json()["id"]
    rows = "".join(f"reader{n}@example.com,Réader{n},+1 202 555 01{n:02d}\n" for n in range(PEOPLE))
    s3 = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    ).client("s3", endpoint_url=local_stack.aws)
    s3.put_object(
        Bucket="crm-files-local",
        Key=f"imports/{directory}/readers.csv",
        Body=("email,first_name,phone\n" + rows).encode(),
    )
    (job,) = wait_for_jobs(local_stack, auth, directory, 1)
    assert job["created"] == PEOPLE

    mark = len(local_stack.lines)
    email_campaign = queue(
        local_stack,
        auth,
        {
            "name": "Welcome",
            "channel": "email",
            "subject": "Welcome, {{ first_name }}",
            "body": "Hello {{ first_name }}, thanks for reading.",
            "directory": directory,
        },
    )
    done = wait_until_finished(local_stack, auth, email_campaign)
    assert done["status"] == "completed", done
    assert done["stats"] == {
        "total": PEOPLE,
        "pending": 0,
        "sent": PEOPLE,
        "failed": 0,
        "skipped": 0,
    }
    emails = [
        match.groups()
        for line in local_stack.lines[mark:]
        if (match := re.search(r"\[email\] to=(\S+) subject=(\".*?\") text=", line))
    ]
    assert Counter(to for to, _ in emails) == {f"reader{n}@example.com": 1 for n in range(PEOPLE)}
    for to, subject in emails:
        number = to.removeprefix("reader").removesuffix("@example.com")
        assert json.loads(subject) == f"Welcome, Réader{number}"

    mark = len(local_stack.lines)
    sms_campaign = queue(
        local_stack,
        auth,
        {"name": "Texts", "channel": "sms", "body": "Hi {{ first_name }}!", "directory": directory},
    )
    done = wait_until_finished(local_stack, auth, sms_campaign)
    assert (done["status"], done["stats"]["sent"]) == ("completed", PEOPLE), done
    texts = Counter(
        match.groups()
        for line in local_stack.lines[mark:]
        if (match := re.search(r"\[sms\] to=(\+\d+) text=(\".*?\")", line))
    )
    assert len(texts) == PEOPLE
    assert set(texts.values()) == {1}
    assert ("+12025550103", '"Hi Réader3!"') in texts
