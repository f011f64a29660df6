"""One export file of a directory, in any format, written to a binary stream."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import datetime
from typing import IO
from urllib.parse import quote

from chalicelib.contacts.models import ContactRecord, partition
from chalicelib.directories.models import DirectoryRecord
from chalicelib.exports.formats import FORMATS


def contacts_of(directory: DirectoryRecord) -> Iterator[ContactRecord]:
    """The directory's contacts in creation order, read page by page (memory stays flat)."""
    key = partition(directory.owner_id, directory.directory_id)
    return iter(ContactRecord.by_contact_id.query(key))


def write_export(out: IO[bytes], fmt: str, directory: DirectoryRecord, now: datetime) -> int:
    """Write the directory's export in ``fmt`` to ``out``; returns the contacts written."""
    if fmt == "pdf":
        from chalicelib.exports.pdf_report import write_pdf

        count = int(directory.contact_count or 0)
        return write_pdf(out, directory.name, now, count, contacts_of(directory))
    from chalicelib.exports.spreadsheets import write_csv, write_xlsx

    writer = write_csv if fmt == "csv" else write_xlsx
    return writer(out, contacts_of(directory))


def filename_for(directory: DirectoryRecord, fmt: str, now: datetime) -> str:
    """The directory's name and the date, made safe as a file name."""
    name = "".join(c if c.isprintable() and c not in '\\/:*?"<>|' else "_" for c in directory.name)
    name = " ".join(name.split())[:100].strip(". ") or "contacts"
    return f"{name} {now:%Y-%m-%d}.{FORMATS[fmt].extension}"


def content_disposition(filename: str) -> str:
    """An attachment header per RFC 6266: an ASCII fallback, then the UTF-8 name."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in folded)
    fallback = " ".join(fallback.split())
    # The file name is "<directory name> <date>.<extension>".
    stem = fallback.rsplit(".", 1)[0]
    name = stem.rsplit(" ", 1)[0] if " " in stem else ""
    if not any(c.isalnum() for c in name):
        # A name in another script folds to nothing (or just the date): clients
        # that ignore filename* (curl -OJ) still get a name that says what it is.
        fallback = f"contacts {fallback}"
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
