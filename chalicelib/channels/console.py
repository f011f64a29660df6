"""SMS and WhatsApp adapters that print each message on one console line.

They stand where a Twilio or Meta adapter will: same interface, same
message ids, no provider yet.
"""

from __future__ import annotations

import json

from chalicelib.channels.base import OutgoingMessage
from chalicelib.ids import new_id


class ConsoleChannel:
    """Prints ``[<name>] to=<number> text="…" id=<id>`` and reports it sent."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, message: OutgoingMessage) -> str:
        message_id = f"{self.name}-{new_id()}"
        print(
            f"[{self.name}] to={message.to} "
            f"text={json.dumps(message.text, ensure_ascii=False)} id={message_id}",
            flush=True,
        )
        return message_id
