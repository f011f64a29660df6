"""Imports on the real local stack: an S3 drop and a multipart upload end in contacts."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import CASES
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


def sign_in(stack: LocalStack, name: str) -> dict[str, str]:
    account = {"email": f"{name}@example.com", "username": name, "password": "e2e passphrase"}
    assert stack.call("POST", "/api/accounts/register", json=account).status_code == 201
    tokens = stack.call("POST", "/api/accounts/login", json=account).json()
    return {"Authorization": f"Bearer {tokens['access']}"}


def wait_for_jobs(stack: LocalStack, auth: dict[str, str], directory: str, count: int) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = stack.call(
            "GET", f"/api/contacts/imports?directory={directory}", headers=auth
        ).json()["results"]
        if len(jobs) == count and all(j["status"] not in ("pending", "processing") for j in jobs):
            return jobs
        time.sleep(0.5)
    raise AssertionError(f"imports did not finish: {jobs}")


def test_s3_drop_and_multipart_upload_import_contacts(local_stack: LocalStack) -> None:
    import boto3

    auth = sign_in(local_stack, "importer")
    directory = local_stack.call(
        "POST", "/api/directory/directories", headers=auth, json={"name": "Trade fair"}
    ).json()["id"]
    s3 = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    ).client("s3", endpoint_url=local_stack.aws)
    # What `aws s3 cp C01_bom_crlf.csv s3://crm-files-local/imports/<id>/` does.
    s3.put_object(
        Bucket="crm-files-local",
        Key=f"imports/{directory}/C01 bom crlf.csv",
        Body=(CASES / "C01_bom_crlf.csv").read_bytes(),
    )
    response = local_stack.call(
        "POST",
        "/api/contacts/contacts/import",
        headers=auth,
        data={"directory_id": directory},
        files={
            "file": (
                "Kontakte März.xlsx",
                (CASES / "C11_xlsx_sheets_merged.xlsx").read_bytes(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        },
    )
    assert response.status_code == 202, response.text
    jobs = wait_for_jobs(local_stack, auth, directory, 2)
    assert sorted((j["filename"], j["status"], j["created"]) for j in jobs) == [
        ("C01 bom crlf.csv", "completed", 2),
        ("Kontakte März.xlsx", "completed", 3),
    ]
    contacts = local_stack.call(
        "GET", f"/api/contacts/contacts?directory={directory}", headers=auth
    ).json()
    assert contacts["count"] == 5
    assert {c["email"] for c in contacts["results"]} >= {
        "zoe.martin@example.com",
        "jana.novak@example.cz",
    }


def test_presigned_upload_on_the_local_stack(local_stack: LocalStack) -> None:
    import requests

    auth = sign_in(local_stack, "presigner")
    directory = local_stack.call(
        "POST", "/api/directory/directories", headers=auth, json={"name": "Big"}
    ).json()["id"]
    job = local_stack.call(
        "POST",
        "/api/contacts/imports",
        headers=auth,
        json={"directory_id": directory, "filename": "big.csv"},
    ).json()
    rows = "".join(f"p{n}@example.com,P{n}\n" for n in range(300))
    put = requests.put(
        job["upload"]["url"], data=("email,first_name\n" + rows).encode(), timeout=30
    )
    assert put.status_code == 200, put.text
    (done,) = wait_for_jobs(local_stack, auth, directory, 1)
    assert (done["id"], done["status"], done["created"]) == (job["id"], "completed", 300)
