"""Listing 10,000 contacts page by page: DynamoDB requests per page.

The claim: each page costs one Query, plus the two reads every contact
route makes (the user behind the token, the directory that authorises the
request and gives the exact count).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from bench.environment import count_dynamodb, mocked_app, seed_directory

CONTACTS = int(os.environ.get("BENCH_LIST_CONTACTS", "10000"))


def _call(client: Any, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = client.http.request(
        method, path, headers=headers, body=json.dumps(body) if body is not None else None
    )
    return json.loads(response.body) if response.body else None


def run() -> None:
    with mocked_app() as client:
        account = {
            "email": "bench@example.com",
            "username": "bench",
            "password": "bench passphrase",
        }
        user = _call(client, "POST", "/api/accounts/register", None, account)
        token = _call(client, "POST", "/api/accounts/login", None, account | {"username": "bench"})[
            "access"
        ]
        directory = _call(client, "POST", "/api/directory/directories", token, {"name": "bench"})
        seed_directory(user["id"], directory["id"], CONTACTS)
        pages = seen = 0
        path: str | None = f"/api/contacts/contacts?directory={directory['id']}"
        started = time.perf_counter()
        with count_dynamodb() as counts:
            while path:
                page = _call(client, "GET", path, token)
                pages += 1
                seen += len(page["results"])
                path = page["next"] and "/" + page["next"].split("://", 1)[1].split("/", 1)[1]
        elapsed = time.perf_counter() - started
    per_page = {op: n / pages for op, n in sorted(counts.items())}
    print(
        f"list contacts: {seen:,} contacts in {pages} pages of 50, {elapsed:.1f} s on moto; "
        f"DynamoDB requests per page: "
        + ", ".join(f"{op} {n:.2f}" for op, n in per_page.items())
        + f" (floor: 1 Query; {'ok' if per_page.get('Query') == 1 else 'OVER'})"
    )
    assert seen == CONTACTS, (seen, CONTACTS)


if __name__ == "__main__":
    run()
