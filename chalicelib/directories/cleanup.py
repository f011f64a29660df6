"""The cleanup queue's worker: purge a deleted directory's contacts in the background.

Each message deletes up to ``ITEMS_PER_MESSAGE`` contacts and, if any
remain, queues its own continuation, so a directory of any size is purged
without one Lambda run doing it all.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import queues
from chalicelib.contacts.models import ContactRecord, partition
from chalicelib.directories.service import PURGE_REQUESTED

log = logging.getLogger(__name__)

ITEMS_PER_MESSAGE = 10_000
_QUERY_PAGE = 1000


def purge_contacts(owner_id: str, directory_id: str) -> int:
    """Delete up to ITEMS_PER_MESSAGE items of the directory; re-queue if more remain."""
    key = partition(owner_id, directory_id)
    deleted = 0
    while deleted < ITEMS_PER_MESSAGE:
        # Deleted items are gone, so each round starts from the partition's start.
        items = list(
            ContactRecord.query(
                key, limit=_QUERY_PAGE, attributes_to_get=["directory_key", "item_key"]
            )
        )
        if not items:
            log.info("purged directory %s (%d items in this run)", directory_id, deleted)
            return deleted
        with ContactRecord.batch_write() as batch:
            for item in items:
                batch.delete(item)
        deleted += len(items)
    queues.send(
        "cleanup", {"kind": PURGE_REQUESTED, "owner_id": owner_id, "directory_id": directory_id}
    )
    log.info("purged %d items of directory %s; continuing in a new message", deleted, directory_id)
    return deleted


def handle_cleanup(message: dict[str, Any]) -> None:
    """Act on one cleanup message."""
    if message.get("kind") == PURGE_REQUESTED:
        purge_contacts(str(message["owner_id"]), str(message["directory_id"]))
        return
    log.error("dropping cleanup message of unknown kind %r", message.get("kind"))
