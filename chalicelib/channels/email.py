"""Email through Amazon SES (sesv2).

With ``ECHO_MESSAGES=1`` (the local stack) each email sent is also printed on
one console line, so a developer sees it without opening anything.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aws import client
from chalicelib.channels.base import OutgoingMessage, PermanentSendError, TransientSendError
from chalicelib.config import settings


def send_email(to: str, subject: str, text: str) -> str:
    """Send a plain-text email; returns SES's message id."""
    cfg = settings()
    request: dict[str, Any] = {
        "FromEmailAddress": cfg.email_sender,
        "Destination": {"ToAddresses": [to]},
        "Content": {
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            }
        },
    }
    if cfg.ses_configuration_set:
        request["ConfigurationSetName"] = cfg.ses_configuration_set
    message_id: str = client("sesv2").send_email(**request)["MessageId"]
    if cfg.echo_messages:
        print(
            f"[email] to={to} subject={json.dumps(subject, ensure_ascii=False)} "
            f"text={json.dumps(text, ensure_ascii=False)} id={message_id}",
            flush=True,
        )
    return message_id


# SES errors that say "not now" rather than "never": throttling, sending
# quota, provider faults. Everything else a request can earn is permanent.
_TRANSIENT_CODES = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "SendingPausedException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
    }
)


class EmailChannel:
    """Campaign emails through SES, with its errors told apart as retryable or not."""

    name = "email"

    def send(self, message: OutgoingMessage) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return send_email(message.to, message.subject, message.text)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            text = f"{code}: {error.get('Message', '')}".strip(": ")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in _TRANSIENT_CODES or status >= 500:
                raise TransientSendError(text) from exc
            raise PermanentSendError(text) from exc
        except BotoCoreError as exc:
            # Connection and timeout errors: the request may not have arrived.
            raise TransientSendError(str(exc)) from exc
