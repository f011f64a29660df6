"""Ways a message leaves the system: email (SES), SMS and WhatsApp.

Every adapter implements :class:`chalicelib.channels.base.Channel`;
:func:`channel_for` picks the one a campaign's channel name stands for.
"""

from __future__ import annotations

from chalicelib.channels.base import Channel


def channel_for(name: str) -> Channel:
    """The adapter sending messages of channel ``name`` (email, sms or whatsapp)."""
    if name == "email":
        from chalicelib.channels.email import EmailChannel

        return EmailChannel()
    if name in ("sms", "whatsapp"):
        from chalicelib.channels.console import ConsoleChannel

        return ConsoleChannel(name)
    raise ValueError(f"no channel named {name!r}")
