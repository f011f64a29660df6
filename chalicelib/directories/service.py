"""Directories: create, read, rename, delete (contacts purged in the background)."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib import queues
from chalicelib.db import condition_failed, iso, utcnow
from chalicelib.directories.models import DirectoryRecord
from chalicelib.errors import NotFoundError
from chalicelib.http.pagination import Page, PageRequest, fetch_page, model_key
from chalicelib.ids import looks_like_id, new_id

log = logging.getLogger(__name__)

PURGE_REQUESTED = "purge_directory_contacts"


def create_directory(owner_id: str, name: str) -> DirectoryRecord:
    """A new, empty directory."""
    now = utcnow()
    directory = DirectoryRecord(
        owner_id, new_id(), name=name, contact_count=0, created_at=now, updated_at=now
    )
    directory.save(condition=DirectoryRecord.directory_id.does_not_exist())
    log.info("created directory %s", directory.directory_id)
    return directory


def get_directory(owner_id: str, directory_id: str) -> DirectoryRecord:
    """The owner's directory; 404 for a missing one or anyone else's."""
    if not looks_like_id(directory_id):
        raise NotFoundError("No such directory.")
    try:
        return DirectoryRecord.get(owner_id, directory_id, consistent_read=True)
    except DirectoryRecord.DoesNotExist:
        raise NotFoundError("No such directory.") from None


def list_directories(owner_id: str, page: PageRequest) -> Page:
    """The owner's directories, oldest first."""
    return fetch_page(
        lambda limit, start: DirectoryRecord.query(owner_id, limit=limit, last_evaluated_key=start),
        page,
        lambda item: model_key(item, ["owner_id", "directory_id"]),
    )


def rename_directory(owner_id: str, directory_id: str, name: str) -> DirectoryRecord:
    """Set the directory's name."""
    if not looks_like_id(directory_id):
        raise NotFoundError("No such directory.")
    directory = DirectoryRecord(owner_id, directory_id)
    try:
        directory.update(
            actions=[DirectoryRecord.name.set(name), DirectoryRecord.updated_at.set(utcnow())],
            condition=DirectoryRecord.directory_id.exists(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise NotFoundError("No such directory.") from None
        raise
    return directory


def move_contact_count(owner_id: str, directory_id: str, delta: int) -> bool:
    """Add ``delta`` to the directory's ``contact_count``; False if the directory is gone."""
    try:
        DirectoryRecord(owner_id, directory_id).update(
            actions=[DirectoryRecord.contact_count.add(delta)],
            condition=DirectoryRecord.directory_id.exists(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def delete_directory(owner_id: str, directory_id: str) -> None:
    """Delete the directory now; its contacts are purged by the cleanup worker.

    Every contact route reads the directory first, so the contacts stop
    being visible the moment the directory item is gone, however many there
    are and however long the purge takes.
    """
    if not looks_like_id(directory_id):
        raise NotFoundError("No such directory.")
    try:
        DirectoryRecord(owner_id, directory_id).delete(
            condition=DirectoryRecord.directory_id.exists()
        )
    except DeleteError as exc:
        if condition_failed(exc):
            raise NotFoundError("No such directory.") from None
        raise
    queues.send(
        "cleanup", {"kind": PURGE_REQUESTED, "owner_id": owner_id, "directory_id": directory_id}
    )
    log.info("deleted directory %s; purge of its contacts queued", directory_id)


def directory_out(directory: DirectoryRecord) -> dict[str, Any]:
    """The API's view of a directory."""
    return {
        "id": directory.directory_id,
        "name": directory.name,
        "contact_count": int(directory.contact_count),
        "created_at": iso(directory.created_at),
        "updated_at": iso(directory.updated_at),
    }
