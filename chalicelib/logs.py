"""Structured logging: one JSON object a line, with request ids appended.

Modules log through ``logging.getLogger(__name__)`` with lazy ``%s``
arguments; this module gives the ``chalicelib`` logger one handler with
Powertools' JSON formatter, so every line carries the keys appended for the
current request or message (user, directory, import, campaign ids). Never log
tokens, password hashes, reset codes or whole contact rows.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

ROOT = "chalicelib"

_formatter = LambdaPowertoolsFormatter(service=os.environ.get("SERVICE_NAME", "clean-crm"))


def configure() -> None:
    """Attach the JSON handler to the package logger once per process."""
    logger = logging.getLogger(ROOT)
    if any(getattr(h, "_crm_json", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_formatter)
    handler._crm_json = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    logger.propagate = False
    # botocore says "Found credentials in environment variables." at INFO
    # on every new client; that is noise in Lambda and on the local console.
    logging.getLogger("botocore").setLevel(logging.WARNING)


def append_keys(**keys: Any) -> None:
    """Add ``keys`` to every line logged until :func:`clear_keys`."""
    _formatter.thread_safe_append_keys(**keys)


def clear_keys() -> None:
    """Forget the keys of the previous request or message."""
    _formatter.thread_safe_clear_keys()
