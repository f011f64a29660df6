"""What each Lambda function may touch: the least-privilege map of the deploy template.

One entry per function of the Chalice app (``api_handler`` serves every
route; the others are ``@app.on_sqs_message`` handlers, by function name).
The template generator refuses to build when a function has no entry, so a
new handler cannot ship with the default role or a copy of another one's.

Entries name logical resources (``contacts``, ``imports``, ``exports/``);
the generator turns them into ARNs. Resources of capabilities still being
built (``PLANNED``) are granted only once the code defines them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Tables and queues the map may name before the code defines them: the
# exports and campaigns branches bring them, with the handlers below.
PLANNED = frozenset(
    {
        "exports",
        "campaigns",
        "deliveries",
    }
)


@dataclass(frozen=True)
class Access:
    """The AWS resources one function uses, by logical name."""

    read_tables: tuple[str, ...] = ()
    write_tables: tuple[str, ...] = ()
    send_queues: tuple[str, ...] = ()
    read_prefixes: tuple[str, ...] = ()
    write_prefixes: tuple[str, ...] = ()
    send_email: bool = False
    read_jwt_secret: bool = False


ACCOUNT_TABLES = ("users", "user_keys", "refresh_tokens", "reset_codes", "rate_limits")

POLICIES: dict[str, Access] = {
    # Every route: accounts, directories, contacts, imports, exports, campaigns.
    "api_handler": Access(
        write_tables=(
            *ACCOUNT_TABLES,
            "directories",
            "contacts",
            "imports",
            "exports",
            "campaigns",
            "deliveries",
        ),
        send_queues=("notifications", "cleanup", "exports", "campaigns"),
        # Multipart uploads land in imports/; presigned URLs are signed with
        # this role, so it needs the rights the URL's user will exercise.
        read_prefixes=("reports/", "exports/"),
        write_prefixes=("imports/",),
        read_jwt_secret=True,
    ),
    # Reset codes: count the request, find the user, store the code, email it.
    "send_notifications": Access(
        read_tables=("users", "user_keys"),
        write_tables=("reset_codes", "rate_limits"),
        send_email=True,
        read_jwt_secret=True,
    ),
    # Purge a deleted directory's contacts, a slice per message.
    "clean_up": Access(write_tables=("contacts",), send_queues=("cleanup",)),
    "import_contacts": Access(
        read_tables=("directories",),
        write_tables=("contacts", "imports", "directories"),
        send_queues=("imports", "cleanup"),
        read_prefixes=("imports/", "reports/"),
        write_prefixes=("reports/",),
    ),
    "fail_dead_imports": Access(write_tables=("imports",)),
    "export_contacts": Access(
        read_tables=("directories", "contacts"),
        write_tables=("exports",),
        write_prefixes=("exports/",),
    ),
    "fail_dead_exports": Access(write_tables=("exports",)),
    # One page of a campaign's audience per message: deliveries out, next page queued.
    "fan_out_campaign": Access(
        read_tables=("directories", "contacts"),
        write_tables=("campaigns", "deliveries"),
        send_queues=("campaigns", "deliveries"),
    ),
    "send_deliveries": Access(
        read_tables=("contacts",),
        write_tables=("campaigns", "deliveries"),
        send_email=True,
    ),
    "fail_dead_deliveries": Access(write_tables=("campaigns", "deliveries")),
    "fail_dead_campaigns": Access(write_tables=("campaigns",)),
}
