"""The one interface every channel adapter implements (SES, console, later Twilio or Meta)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message for one destination; ``subject`` is empty outside email."""

    to: str
    subject: str
    text: str


class SendError(Exception):
    """A message the provider did not take; ``retryable`` says whether trying later may help."""

    retryable = False


class TransientSendError(SendError):
    """Throttling, a timeout or a provider fault: the same message may go through later."""

    retryable = True


class PermanentSendError(SendError):
    """The provider refused this message (rejected, invalid address): retrying cannot help."""

    retryable = False


class Channel(Protocol):
    """Sends one message; returns the provider's message id or raises :class:`SendError`."""

    name: str

    def send(self, message: OutgoingMessage) -> str: ...
