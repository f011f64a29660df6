"""The notifications queue's worker: emails that the API only queues."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.accounts import reset

log = logging.getLogger(__name__)


def handle_notification(message: dict[str, Any]) -> None:
    """Act on one notifications message; an unknown kind is logged and dropped."""
    kind = message.get("kind")
    if kind == reset.RESET_REQUESTED and isinstance(message.get("email"), str):
        reset.send_reset_code(message["email"])
        return
    # A message no code understands would fail forever; keep it out of the
    # retry loop but say so.
    log.error("dropping notifications message of unknown kind %r", kind)
