"""Exports on the real local stack: files arrive intact over HTTP, jobs link them."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.test_imports_flow import sign_in

pytestmark = pytest.mark.e2e

MAGIC = {"csv": b"\xef\xbb\xbffirst_name", "xlsx": b"PK\x03\x04", "pdf": b"%PDF-"}


def test_exports_arrive_intact_over_http_and_through_a_job(local_stack: LocalStack) -> None:
    auth = sign_in(local_stack, "exporter")
    directory = local_stack.call(
        "POST", "/api/directory/directories", headers=auth, json={"name": "Kunden Köln"}
    ).json()["id"]
    for contact in (
        {"email": "zoe@example.com", "first_name": "Zoë", "phone": "+33 6 12 34 56 78"},
        {"email": "sara@example.il", "first_name": "שרה", "extra": {"note": "=1+1"}},
    ):
        response = local_stack.call(
            "POST", "/api/contacts/contacts", headers=auth, json={"directory": directory, **contact}
        )
        assert response.status_code == 201, response.text
    for fmt, magic in MAGIC.items():
        for accept in (None, "application/json", "text/html,*/*;q=0.8"):
            headers = dict(auth)
            # requests sends "Accept: */*" unless told otherwise; None removes it.
            headers["Accept"] = accept  # type: ignore[assignment]
            response = local_stack.call(
                "GET",
                f"/api/contacts/contacts/export?directory_id={directory}&format={fmt}",
                headers=headers,
            )
            assert response.status_code == 200, (fmt, accept, response.text[:200])
            assert response.content.startswith(magic), (fmt, accept, response.content[:40])
            assert "Kunden%20K%C3%B6ln" in response.headers["Content-Disposition"]

    body = {"directory_id": directory, "format": "csv"}
    job = local_stack.call("POST", "/api/contacts/exports", headers=auth, json=body).json()
    deadline = time.monotonic() + 60
    while job["status"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = local_stack.call("GET", f"/api/contacts/exports/{job['id']}", headers=auth).json()
    assert job["status"] == "completed", job
    data = requests.get(job["download_url"], timeout=30).content
    assert data.startswith(MAGIC["csv"])
    assert b"'=1+1" in data and "Zoë".encode() in data
