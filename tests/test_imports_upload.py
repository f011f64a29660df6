"""Uploads: multipart through API Gateway (C15), presigned PUTs, and their errors."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
import requests

from tests.conftest import CASES, User
from tests.imports_helpers import contacts_of, finish_imports

C15_EVENT = json.loads((CASES / "C15_apigw_event.json").read_text())
C15_EXPECTED = json.loads((CASES / "C15_expected.json").read_text())
C15_BODY = base64.b64decode(C15_EVENT["body"])
C15_TYPE = C15_EVENT["headers"]["Content-Type"]


@pytest.fixture
def directory(ana: User) -> str:
    return ana.new_directory("Uploads")


def stored_object(job: dict[str, Any]) -> tuple[str, bytes]:
    from chalicelib.aws import client
    from chalicelib.config import settings

    s3 = client("s3")
    prefix = f"imports/{job['directory_id']}/{job['id']}/"
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=settings().files_bucket, Prefix=prefix)["Contents"]
    ]
    assert len(keys) == 1
    data = s3.get_object(Bucket=settings().files_bucket, Key=keys[0])["Body"].read()
    return keys[0], data


def test_c15_multipart_bytes_arrive_intact_with_utf8_filename(ana: User, directory: str) -> None:
    status, job, _ = ana.http.request(
        "POST",
        f"/api/contacts/contacts/import?directory_id={directory}",
        raw=C15_BODY,
        token=ana.token,
        headers={"Content-Type": C15_TYPE},
    )
    assert status == 202, job
    assert job["status"] == "pending"
    assert job["filename"] == C15_EXPECTED["file"]["filename"] == "Kontakte März.xlsx"
    key, data = stored_object(job)
    assert key.endswith("/Kontakte März.xlsx")
    assert len(data) == C15_EXPECTED["file"]["size"]
    assert hashlib.sha256(data).hexdigest() == C15_EXPECTED["file"]["sha256"]
    (done,) = finish_imports(ana, directory)
    assert done["id"] == job["id"]
    assert done["status"] in ("completed", "completed_with_errors", "failed")


def test_c15_through_a_real_api_gateway_event(ana: User, directory: str) -> None:
    """The Lambda handler itself, with API Gateway's base64-encoded body."""
    from app import app

    path = "/api/contacts/contacts/import"
    event = json.loads(json.dumps(C15_EVENT))
    event.update(
        resource=path,
        path=path,
        queryStringParameters={"directory_id": directory},
        multiValueQueryStringParameters={"directory_id": [directory]},
    )
    event["headers"]["Authorization"] = f"Bearer {ana.token}"
    event["requestContext"].update(resourcePath=path, identity={"sourceIp": "203.0.113.9"})
    response = app(event, None)
    assert response["statusCode"] == 202, response
    body = response["body"]
    # Every body is binary to API Gateway, which decodes what is marked so.
    job = json.loads(base64.b64decode(body) if response.get("isBase64Encoded") else body)
    _, data = stored_object(job)
    assert hashlib.sha256(data).hexdigest() == C15_EXPECTED["file"]["sha256"]


@pytest.mark.parametrize("negative", C15_EXPECTED["negative_requests"])
def test_c15_negative_requests(ana: User, directory: str, negative: dict[str, Any]) -> None:
    status, problem, headers = ana.http.request(
        "POST",
        f"/api/contacts/contacts/import?directory_id={directory}",
        raw=C15_BODY,
        token=ana.token,
        headers={"Content-Type": negative["content_type"]},
    )
    assert status == negative["expect_status"], problem
    assert headers["content-type"] == "application/problem+json"


def test_upload_over_the_limit_is_413_naming_the_presigned_route(
    ana: User, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    from chalicelib.config import settings

    settings.cache_clear()
    try:
        status, problem, _ = ana.http.request(
            "POST",
            f"/api/contacts/contacts/import?directory_id={directory}",
            raw=C15_BODY,
            token=ana.token,
            headers={"Content-Type": C15_TYPE},
        )
    finally:
        monkeypatch.delenv("MAX_UPLOAD_BYTES")
        settings.cache_clear()
    assert status == 413
    assert "/api/contacts/imports" in problem["detail"]


def upload(user: User, body: bytes, content_type: str) -> tuple[int, Any, dict[str, str]]:
    """POST a multipart body to the upload route as ``user``."""
    return user.http.request(
        "POST",
        "/api/contacts/contacts/import",
        raw=body,
        token=user.token,
        headers={"Content-Type": content_type},
    )


def multipart(fields: dict[str, str], file: tuple[str, bytes] | None) -> tuple[bytes, str]:
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    if file:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{file[0]}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
            + file[1]
            + b"\r\n"
        )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("fields", "file", "field"),
    [
        ({}, ("a.csv", b"email\na@example.com\n"), "directory_id"),
        ({"directory_id": "DIR"}, None, "file"),
        ({"directory_id": "DIR"}, ("a.csv", b""), "file"),
    ],
)
def test_upload_errors_name_the_field(
    ana: User, directory: str, fields: dict[str, str], file: Any, field: str
) -> None:
    fields = {k: v.replace("DIR", directory) for k, v in fields.items()}
    body, content_type = multipart(fields, file)
    status, problem, _ = upload(ana, body, content_type)
    assert status == 400, problem
    assert field in problem["errors"]


def test_multipart_csv_is_imported(ana: User, directory: str) -> None:
    body, content_type = multipart(
        {"directory_id": directory}, ("team.csv", b"Email,First Name\nbea@example.com,Bea\n")
    )
    status, job, _ = ana.http.request(
        "POST",
        "/api/contacts/contacts/import",
        raw=body,
        token=ana.token,
        headers={"Content-Type": content_type},
    )
    assert status == 202
    (done,) = finish_imports(ana, directory)
    assert (done["id"], done["status"], done["created"]) == (job["id"], "completed", 1)
    assert [c["first_name"] for c in contacts_of(ana, directory)] == ["Bea"]


def test_an_import_reads_national_phones_in_the_region_it_is_given(
    ana: User, directory: str
) -> None:
    """A French list of 06… numbers is valid French mobiles, found again on re-import."""
    data = b"Nom;Prenom;Telephone\nDurand;Lea;06 12 34 56 78\nMartin;Hugo;01 23 45 67 89\n"
    body, content_type = multipart(
        {"directory_id": directory, "phone_region": "fr"}, ("fr.csv", data)
    )
    status, job, _ = upload(ana, body, content_type)
    assert (status, job["phone_region"]) == (202, "FR"), job
    (done,) = finish_imports(ana, directory)
    assert (done["status"], done["created"]) == ("completed", 2), done
    phones = sorted((c["phone"], c["phone_valid"]) for c in contacts_of(ana, directory))
    assert phones == [("+33123456789", True), ("+33612345678", True)]
    status, job, _ = ana.post(
        "/api/contacts/imports",
        {"directory_id": directory, "filename": "fr.csv", "phone_region": "FR"},
    )
    assert status == 201, job
    requests.put(job["upload"]["url"], data=data, timeout=10)
    again = finish_imports(ana, directory)[0]
    assert (again["created"], again["skipped"]) == (0, 2), again


@pytest.mark.parametrize("region", ["XX", "France", "+33"])
def test_an_unknown_phone_region_is_a_400_naming_it(ana: User, directory: str, region: str) -> None:
    status, problem, _ = ana.post(
        "/api/contacts/imports",
        {"directory_id": directory, "filename": "a.csv", "phone_region": region},
    )
    assert status == 400 and "phone_region" in problem["errors"], problem
    body, content_type = multipart(
        {"directory_id": directory, "phone_region": region}, ("a.csv", b"email\na@example.com\n")
    )
    status, problem, _ = upload(ana, body, content_type)
    assert status == 400 and "phone_region" in problem["errors"], problem


def test_presigned_upload_for_any_size(ana: User, directory: str) -> None:
    status, job, _ = ana.post(
        "/api/contacts/imports", {"directory_id": directory, "filename": "../../big list.csv"}
    )
    assert status == 201, job
    assert job["filename"] == "big list.csv"
    assert job["upload"]["method"] == "PUT"
    response = requests.put(job["upload"]["url"], data=b"email\ncy@example.com\n", timeout=10)
    assert response.status_code == 200
    (done,) = finish_imports(ana, directory)
    assert (done["id"], done["status"], done["created"]) == (job["id"], "completed", 1)


def test_a_presigned_url_used_twice_imports_both_files(ana: User, directory: str) -> None:
    """The second upload is not taken for a redelivery of the first: it gets its own job."""
    status, job, _ = ana.post(
        "/api/contacts/imports", {"directory_id": directory, "filename": "list.csv"}
    )
    assert status == 201, job
    requests.put(job["upload"]["url"], data=b"email\nfirst@example.com\n", timeout=10)
    assert finish_imports(ana, directory)[0]["status"] == "completed"
    requests.put(job["upload"]["url"], data=b"email\nsecond@example.com\n", timeout=10)
    again, first = finish_imports(ana, directory)
    assert (first["id"], first["status"], first["created"]) == (job["id"], "completed", 1)
    assert again["id"] != job["id"]
    assert (again["status"], again["created"], again["filename"]) == ("completed", 1, "list.csv")
    emails = sorted(c["email"] for c in contacts_of(ana, directory))
    assert emails == ["first@example.com", "second@example.com"]


def test_other_users_imports_are_404(ana: User, bruno: User, directory: str) -> None:
    status, job, _ = ana.post(
        "/api/contacts/imports", {"directory_id": directory, "filename": "a.csv"}
    )
    assert status == 201
    assert bruno.get(f"/api/contacts/imports/{job['id']}")[0] == 404
    assert bruno.get(f"/api/contacts/imports?directory={directory}")[0] == 404
    assert (
        bruno.post("/api/contacts/imports", {"directory_id": directory, "filename": "a.csv"})[0]
        == 404
    )
    body, content_type = multipart({"directory_id": directory}, ("a.csv", b"email\nx@y.com\n"))
    status, _, _ = bruno.http.request(
        "POST",
        "/api/contacts/contacts/import",
        raw=body,
        token=bruno.token,
        headers={"Content-Type": content_type},
    )
    assert status == 404


def test_unknown_field_charset_is_read_as_utf8(ana: User, directory: str) -> None:
    boundary = "cs"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="directory_id"\r\n'
        f"Content-Type: text/plain; charset=bogus-charset\r\n\r\n{directory}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nemail\r\ncs@example.com\r\n--{boundary}--\r\n"
    ).encode()
    status, job, _ = ana.http.request(
        "POST",
        "/api/contacts/contacts/import",
        raw=body,
        token=ana.token,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 202, job


def test_two_file_parts_are_refused(ana: User, directory: str) -> None:
    one, content_type = multipart({"directory_id": directory}, ("one.csv", b"email\na@b.co\n"))
    two, _ = multipart({}, ("two.csv", b"email\nc@d.co\n"))
    body = one.replace(b"--b0undary--\r\n", b"") + two
    status, problem, _ = upload(ana, body, content_type)
    assert status == 400, problem


def test_a_presigned_job_whose_file_never_arrives_fails_after_the_url_expires(
    ana: User, directory: str
) -> None:
    from datetime import timedelta

    from chalicelib.imports.jobs import get_job
    from chalicelib.imports.models import ImportRecord

    status, job, _ = ana.post(
        "/api/contacts/imports", {"directory_id": directory, "filename": "late.csv"}
    )
    record = get_job(ana.id, job["id"])
    record.update(actions=[ImportRecord.created_at.set(record.created_at - timedelta(hours=2))])
    status, fetched, _ = ana.get(f"/api/contacts/imports/{job['id']}")
    assert (status, fetched["status"]) == (200, "failed")
    assert "upload URL expired" in fetched["failure_reason"]
    listed = ana.get(f"/api/contacts/imports?directory={directory}")[1]["results"]
    assert listed[0]["status"] == "failed"
