"""Dropping files into the bucket and running the import worker, as in production."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import CASES, User, run_queue


def drop_file(directory: str, name: str, data: bytes) -> None:
    """Write ``data`` to imports/<directory>/<name>, as `aws s3 cp` would."""
    from chalicelib.aws import client
    from chalicelib.config import settings

    client("s3").put_object(
        Bucket=settings().files_bucket, Key=f"imports/{directory}/{name}", Body=data
    )


def import_case(user: User, directory: str, case: str) -> dict[str, Any]:
    """Import a case file by S3 drop and return its finished job."""
    drop_file(directory, case, (CASES / case).read_bytes())
    return finish_imports(user, directory)[0]


def finish_imports(user: User, directory: str) -> list[dict[str, Any]]:
    """Run the import worker until the queue is empty; the directory's jobs, newest first."""
    run_queue("imports")
    status, page, _ = user.get(f"/api/contacts/imports?directory={directory}")
    assert status == 200, page
    return list(page["results"])


def contacts_of(user: User, directory: str) -> list[dict[str, Any]]:
    status, page, _ = user.get(f"/api/contacts/contacts?directory={directory}&page_size=500")
    assert status == 200, page
    return list(page["results"])


def by_email(contacts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["email"]: c for c in contacts}


def case_path(name: str) -> Path:
    return CASES / name


def workbook_with(rows: list[list[Any]], after_sheet_data: str) -> bytes:
    """A workbook of ``rows`` whose sheet XML gets ``after_sheet_data`` spliced in.

    ``after_sheet_data`` replaces ``</sheetData>``: hand-written XML openpyxl
    itself would never write (broken cells, absurd merges).
    """
    import openpyxl

    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", after_sheet_data.encode())
            target.writestr(item, data)
    return out.getvalue()


def imports_queue() -> tuple[Any, str]:
    """The SQS client and the imports queue's URL, to look at its messages."""
    from chalicelib.aws import client
    from chalicelib.config import settings

    sqs = client("sqs")
    return sqs, sqs.get_queue_url(QueueName=settings().queue_name("imports"))["QueueUrl"]


def with_part_changed(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook ``data`` with its part ``name`` (``xl/styles.xml``) passed through
    ``change``."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            target.writestr(item, change(part) if item.filename == name else part)
    return out.getvalue()
