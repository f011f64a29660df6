"""Settings read from the environment, in one place.

Resource names (tables, queues, bucket) come from environment variables that
the merge template sets per function in deployed stages; locally and in tests
they default to names derived from the stage, so `make run` needs no setup.
Secrets are never defaults outside the local stage: the JWT secret comes from
``JWT_SECRET`` (local, tests) or from the SSM parameter named by
``JWT_SECRET_PARAMETER`` (deployed stages), fetched once, lazily.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

MIN_SECRET_BYTES = 32

# Every SQS queue, by logical name; each has a dead-letter queue "<name>-dlq".
QUEUES = ("notifications", "cleanup", "imports", "exports", "campaigns", "deliveries")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"environment variable {name} must be an integer, not {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """The settings of one process; see :func:`settings`."""

    stage: str
    region: str
    endpoint_url: str | None
    bcrypt_rounds: int
    access_token_minutes: int
    refresh_token_days: int
    jwt_leeway_seconds: int
    reset_code_minutes: int
    reset_code_max_attempts: int
    reset_requests_per_email: int
    reset_requests_per_ip: int
    login_failures_per_account: int
    rate_window_minutes: int
    max_json_body_bytes: int
    email_sender: str
    ses_configuration_set: str | None
    echo_messages: bool
    default_phone_region: str
    max_upload_bytes: int
    sync_export_max_contacts: int
    sync_pdf_max_contacts: int
    sync_export_max_bytes: int
    delivery_lease_seconds: int
    send_retry_base_seconds: int
    cors_allowed_origins: tuple[str, ...]

    def table_name(self, logical: str) -> str:
        """The DynamoDB table name for a logical table (``users`` …)."""
        return _env(f"{logical.upper()}_TABLE", f"crm-{self.stage}-{logical.replace('_', '-')}")

    def queue_name(self, logical: str) -> str:
        """The SQS queue name for a logical queue (``imports`` …, ``imports-dlq``)."""
        env = logical.upper().replace("-", "_") + "_QUEUE"
        return _env(env, f"crm-{self.stage}-{logical}")

    @property
    def files_bucket(self) -> str:
        return _env("FILES_BUCKET", f"crm-files-{self.stage}")


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings, read from the environment once per process."""
    stage = _env("STAGE", "local")
    return Settings(
        stage=stage,
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")),
        # botocore reads AWS_ENDPOINT_URL itself; PynamoDB needs it explicitly
        # because it fixes the host when a model class is built.
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        bcrypt_rounds=_env_int("BCRYPT_ROUNDS", 12),
        access_token_minutes=_env_int("ACCESS_TOKEN_MINUTES", 60),
        refresh_token_days=_env_int("REFRESH_TOKEN_DAYS", 7),
        jwt_leeway_seconds=_env_int("JWT_LEEWAY_SECONDS", 10),
        reset_code_minutes=_env_int("RESET_CODE_MINUTES", 10),
        reset_code_max_attempts=_env_int("RESET_CODE_MAX_ATTEMPTS", 5),
        reset_requests_per_email=_env_int("RESET_REQUESTS_PER_EMAIL", 3),
        reset_requests_per_ip=_env_int("RESET_REQUESTS_PER_IP", 20),
        login_failures_per_account=_env_int("LOGIN_FAILURES_PER_ACCOUNT", 10),
        rate_window_minutes=_env_int("RATE_WINDOW_MINUTES", 15),
        max_json_body_bytes=_env_int("MAX_JSON_BODY_BYTES", 256 * 1024),
        email_sender=_env("EMAIL_SENDER", "no-reply@clean-crm.local"),
        ses_configuration_set=os.environ.get("SES_CONFIGURATION_SET") or None,
        echo_messages=_env("ECHO_MESSAGES", "0") == "1",
        # Numbers written without a country code are read as this region's.
        default_phone_region=_env("DEFAULT_PHONE_REGION", "US").upper(),
        # Lambda takes 6 MB per request, and API Gateway base64-encodes files.
        max_upload_bytes=_env_int("MAX_UPLOAD_BYTES", 4 * 1024 * 1024),
        # The export route answers within API Gateway's 29 s and Lambda's 6 MB
        # (base64: 4.5 MB of file); bigger directories use an export job.
        sync_export_max_contacts=_env_int("SYNC_EXPORT_MAX_CONTACTS", 20_000),
        sync_pdf_max_contacts=_env_int("SYNC_PDF_MAX_CONTACTS", 2_000),
        sync_export_max_bytes=_env_int("SYNC_EXPORT_MAX_BYTES", 4_000_000),
        # How long a sender owns a claimed delivery: one send's worth, with
        # room. A redelivery before then retries later rather than resend.
        delivery_lease_seconds=_env_int("DELIVERY_LEASE_SECONDS", 30),
        # A send that was throttled comes back after base * 2^(receives - 1) s.
        send_retry_base_seconds=_env_int("SEND_RETRY_BASE_SECONDS", 5),
        # Browser origins that may call the API (`*`: any); others get no CORS headers.
        cors_allowed_origins=tuple(
            origin.strip().rstrip("/")
            for origin in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",")
            if origin.strip()
        ),
    )


@lru_cache(maxsize=1)
def jwt_secret() -> str:
    """The HMAC secret for JWTs: ``JWT_SECRET``, else the SSM parameter.

    Deployed stages set only ``JWT_SECRET_PARAMETER`` so the secret never sits
    in a template or the Lambda console.
    """
    secret = os.environ.get("JWT_SECRET", "")
    if not secret:
        parameter = os.environ.get("JWT_SECRET_PARAMETER", "")
        if not parameter:
            raise RuntimeError("set JWT_SECRET or JWT_SECRET_PARAMETER")
        from chalicelib.aws import client

        response = client("ssm").get_parameter(Name=parameter, WithDecryption=True)
        secret = str(response["Parameter"]["Value"])
    # HS256 with a short key can be brute-forced offline from one token.
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise RuntimeError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes")
    return secret
