"""boto3 clients, built once per process and only when first used.

Importing boto3 costs as much as the rest of the API's cold start, and most
requests never touch SES, SQS or S3, so the import waits for the first call.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings


@cache
def client(service: str) -> Any:
    """A cached boto3 client for ``service`` in the configured region and endpoint."""
    import boto3
    from botocore.config import Config

    cfg = settings()
    return boto3.session.Session().client(
        service,
        region_name=cfg.region,
        endpoint_url=cfg.endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 4}),
    )
