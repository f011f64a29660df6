"""The contract test: schemathesis drives every operation of /api/schema on the local stack.

It sends generated requests (valid and invalid, authenticated as a real
user, with ids that exist) and fails on any 5xx, any status the document
does not list, and any response that breaks the documented schema. The run
is bounded by ``CONTRACT_EXAMPLES`` cases per operation (30: about a minute
on two cores).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "30"))
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def test_every_operation_keeps_the_contract(local_stack: LocalStack, tmp_path: Path) -> None:
    call = local_stack.call
    account = {"email": "fuzz@example.com", "username": "fuzz", "password": "fuzzing passphrase"}
    assert call("POST", "/api/accounts/register", json=account).status_code == 201
    login = call("POST", "/api/accounts/login", json=account).json()
    auth = {"Authorization": f"Bearer {login['access']}"}
    directory = call(
        "POST", "/api/directory/directories", json={"name": "Fuzzed"}, headers=auth
    ).json()
    contact = call(
        "POST",
        "/api/contacts/contacts",
        json={"directory": directory["id"], "email": "someone@example.com"},
        headers=auth,
    ).json()
    job = call(
        "POST",
        "/api/contacts/imports",
        json={"directory_id": directory["id"], "filename": "later.csv"},
        headers=auth,
    ).json()

    env = {
        **os.environ,
        "CRM_DIRECTORY": directory["id"],
        "CRM_CONTACT": contact["id"],
        "CRM_IMPORT": job["id"],
    }
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{local_stack.api}/api/schema",
        "--header",
        f"Authorization: Bearer {login['access']}",
        "--checks",
        CHECKS,
        "--mode",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(tmp_path / "contract.xml"),
    ]
    result = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=400
    )
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
    tested = (tmp_path / "contract.xml").read_text()
    documented = call("GET", "/api/schema").json()["paths"]
    for path, methods in documented.items():
        for method in methods:
            if path != "/api/schema":  # schemathesis reads it, it does not fuzz it
                assert f'"{method.upper()} {path}"' in tested, f"{method} {path} untested"
