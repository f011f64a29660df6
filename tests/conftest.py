"""Test fixtures. AWS is mocked at one point: the ``aws`` fixture.

Settings are read from the environment when models are imported, so the
environment is fixed here, before anything from the app is imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"

TEST_ENV = {
    "STAGE": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "JWT_SECRET": "crm-test-secret-NOT-FOR-PROD-0123456789abcdef",
    "JWT_LEEWAY_SECONDS": "10",
    "BCRYPT_ROUNDS": "4",
    "ECHO_MESSAGES": "0",
    "EMAIL_SENDER": "no-reply@clean-crm.test",
    "CORS_ALLOWED_ORIGINS": "https://crm.example.com, https://admin.example.com/",
}
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "JWT_SECRET_PARAMETER"):
    os.environ.pop(_name, None)
os.environ.update(TEST_ENV)


@pytest.fixture
def aws() -> Iterator[None]:
    """Every AWS call inside the test goes to moto; all resources exist."""
    from moto import mock_aws

    from chalicelib.aws import client
    from chalicelib.queues import queue_url

    with mock_aws():
        # Clients and queue URLs cached by an earlier test point at its mock.
        client.cache_clear()
        queue_url.cache_clear()
        from local.bootstrap import create_all

        create_all()
        yield
    client.cache_clear()
    queue_url.cache_clear()


@pytest.fixture
def api(aws: None) -> Iterator[Any]:
    """A ``chalice.test.Client`` on the app, with AWS mocked."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test", project_dir=str(ROOT)) as client:
        yield client


class JsonClient:
    """Send JSON to the app and read JSON back, as a real client would."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        all_headers = {"Content-Type": "application/json"}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        payload = raw if raw is not None else (None if body is None else json.dumps(body))
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        text = response.body.decode("utf-8") if response.body else ""
        data = json.loads(text) if text else None
        return response.status_code, data, {k.lower(): v for k, v in response.headers.items()}

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.request("POST", path, body, **kw)

    def get(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.request("GET", path, **kw)


@pytest.fixture
def http(api: Any) -> JsonClient:
    return JsonClient(api)


def register_user(
    http: JsonClient,
    email: str = "ana@example.com",
    username: str = "ana",
    password: str = "correct horse battery",
) -> dict[str, Any]:
    status, body, _ = http.post(
        "/api/accounts/register", {"email": email, "username": username, "password": password}
    )
    assert status == 201, body
    return dict(body)


def log_in(http: JsonClient, login: str, password: str) -> dict[str, str]:
    status, body, _ = http.post("/api/accounts/login", {"username": login, "password": password})
    assert status == 200, body
    return dict(body)


@dataclass(frozen=True)
class SentEmail:
    to: list[str]
    subject: str
    body: str


def sent_emails() -> list[SentEmail]:
    """The emails SES (moto) accepted so far in this test."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [
        SentEmail(to=list(m.destinations.get("ToAddresses", [])), subject=m.subject, body=m.body)
        for m in backend.sent_messages
    ]


def run_queue(logical: str, *, max_batches: int = 100) -> int:
    """Feed the queue's messages to its Chalice handler, as Lambda would; returns messages seen."""
    import app as app_module
    from chalicelib.aws import client
    from chalicelib.config import settings
    from local.pump import pump_once, sources

    name = settings().queue_name(logical)
    source = next(s for s in sources(app_module) if s.queue_name == name)
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    seen = 0
    for _ in range(max_batches):
        count = pump_once(sqs, source, url, arn, wait=0, timeout_seconds=900)
        if not count:
            break
        seen += count
    return seen


@dataclass
class User:
    """A registered, logged-in user and a client that sends their token."""

    http: JsonClient
    token: str
    id: str

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.http.request("POST", path, body, token=self.token, **kw)

    def get(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.http.request("GET", path, token=self.token, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.http.request("PUT", path, body, token=self.token, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.http.request("PATCH", path, body, token=self.token, **kw)

    def delete(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.http.request("DELETE", path, token=self.token, **kw)

    def new_directory(self, name: str = "Customers") -> str:
        status, body, _ = self.post("/api/directory/directories", {"name": name})
        assert status == 201, body
        return str(body["id"])

    def new_contact(self, directory: str, **fields: Any) -> dict[str, Any]:
        status, body, _ = self.post("/api/contacts/contacts", {"directory": directory, **fields})
        assert status == 201, body
        return dict(body)


def make_user(http: JsonClient, name: str) -> User:
    user = register_user(http, email=f"{name}@example.com", username=name)
    tokens = log_in(http, name, "correct horse battery")
    return User(http=http, token=tokens["access"], id=user["id"])


@pytest.fixture
def ana(http: JsonClient) -> User:
    return make_user(http, "ana")


@pytest.fixture
def bruno(http: JsonClient) -> User:
    return make_user(http, "bruno")
