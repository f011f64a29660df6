"""SQS handlers of export jobs: the worker and its dead-letter queue."""

from __future__ import annotations

from typing import Any

from chalicelib import logs
from chalicelib.exports import service


def _ids(message: dict[str, Any]) -> tuple[str, str]:
    owner_id, export_id = message.get("owner_id"), message.get("export_id")
    if not isinstance(owner_id, str) or not isinstance(export_id, str):
        raise ValueError("an export message needs owner_id and export_id")
    return owner_id, export_id


def handle_export_message(message: dict[str, Any]) -> None:
    """Write the export the message names."""
    owner_id, export_id = _ids(message)
    logs.append_keys(user_id=owner_id, export_id=export_id)
    service.run_job(owner_id, export_id)


def handle_dead_letter(message: dict[str, Any]) -> None:
    """A message that failed every retry: its job fails, saying so."""
    owner_id, export_id = _ids(message)
    logs.append_keys(user_id=owner_id, export_id=export_id)
    service.fail_job(
        owner_id, export_id, "The export failed after repeated errors. Start a new export."
    )
