"""Accounts over HTTP on the real local stack, the way a user tries them with curl."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

ACCOUNTS = "/api/accounts"


def test_register_login_me_refresh_reset_and_login_again(local_stack: LocalStack) -> None:
    call = local_stack.call
    account = {"email": "Zoe.Martin@Example.com", "username": "zoe", "password": "first passphrase"}
    response = call("POST", f"{ACCOUNTS}/register/", json=account)
    assert response.status_code == 201, response.text
    user = response.json()

    response = call(
        "POST",
        f"{ACCOUNTS}/login",
        json={"username": "zoe.martin@example.com", "password": "first passphrase"},
    )
    assert response.status_code == 200, response.text
    tokens = response.json()

    response = call(
        "GET", f"{ACCOUNTS}/me", headers={"Authorization": f"Bearer {tokens['access']}"}
    )
    assert response.status_code == 200
    assert response.json() == user

    response = call("POST", f"{ACCOUNTS}/token/refresh", json={"refresh": tokens["refresh"]})
    assert response.status_code == 200
    refreshed = response.json()

    mark = len(local_stack.lines)
    response = call("POST", f"{ACCOUNTS}/password/reset/request", json={"email": user["email"]})
    assert response.status_code == 202
    line = local_stack.wait_for_line(
        r"\[email\] to=zoe\.martin@example\.com .*reset code is (\d{6})", after=mark
    )
    code = line.group(1)

    response = call(
        "POST",
        f"{ACCOUNTS}/password/reset/confirm",
        json={"email": user["email"], "code": code, "new_password": "second passphrase"},
    )
    assert response.status_code == 200, response.text

    response = call(
        "GET", f"{ACCOUNTS}/me", headers={"Authorization": f"Bearer {refreshed['access']}"}
    )
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"

    response = call(
        "POST", f"{ACCOUNTS}/login", json={"username": "zoe", "password": "second passphrase"}
    )
    assert response.status_code == 200


def test_bad_requests_are_problems_over_http(local_stack: LocalStack) -> None:
    response = local_stack.call(
        "POST", f"{ACCOUNTS}/login", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"


def test_every_resource_exists_in_the_embedded_aws(local_stack: LocalStack) -> None:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    dynamodb = session.client("dynamodb", endpoint_url=local_stack.aws)
    sqs = session.client("sqs", endpoint_url=local_stack.aws)
    s3 = session.client("s3", endpoint_url=local_stack.aws)
    tables = set(dynamodb.list_tables()["TableNames"])
    assert {"crm-local-users", "crm-local-user-keys", "crm-local-reset-codes"} <= tables
    queues = {url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]}
    for name in ("notifications", "imports", "campaigns", "deliveries"):
        assert {f"crm-local-{name}", f"crm-local-{name}-dlq"} <= queues
    config = s3.get_bucket_notification_configuration(Bucket="crm-files-local")
    rule = config["QueueConfigurations"][0]
    assert rule["QueueArn"].endswith(":crm-local-imports")
    rules = rule["Filter"]["Key"]["FilterRules"]
    assert [(r["Name"].lower(), r["Value"]) for r in rules] == [("prefix", "imports/")]
