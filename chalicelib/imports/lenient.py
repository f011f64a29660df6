"""What a file's cells hold that the API would refuse, made fit to import.

A client of the API can be told to send one address per field; a file
cannot be sent back. Exports put several addresses in one cell (Google's
``a@x.com ::: b@x.com``), names beside addresses (``Ana Lima <ana@x.com>``),
``mailto:`` links, full names in one column and notes longer than a field
holds. Each is made into what the contacts module accepts, and every change
is a warning in the job's report, so nothing is lost without a word.
"""

from __future__ import annotations

import json
import re
from email.utils import getaddresses
from typing import Any

from chalicelib.contacts.normalize import (
    MAX_EXTRA_BYTES,
    MAX_EXTRA_VALUE_LENGTH,
    MAX_NAME_LENGTH,
)

OTHER_EMAILS_FIELD = "other emails"
OTHER_PHONES_FIELD = "other phones"
SALUTATION_FIELD = "salutation"
# A plain address has none of these; anything else is looked at closer.
_NOT_PLAIN = re.compile(r"[\s<>;,]|:::|^mailto:", re.IGNORECASE)
_MAILTO = re.compile(r"mailto:", re.IGNORECASE)
# A name needs the name parser when it may be "Last, First" or carry a
# title or suffix; two plain words are first and last.
_NEEDS_PARSER = re.compile(r"[,.]|\S+\s+\S+\s+\S")

Warning = tuple[str, str]


def split_addresses(text: str) -> tuple[str, list[str]]:
    """The first email address in a cell, and any others (``[]`` for a plain one).

    Text that holds no address at all is returned as it is, for the email
    check to say why.
    """
    if not _NOT_PLAIN.search(text):
        return text, []
    # Google's ":::" and ";" separate addresses as "," does; "mailto:" is a link's.
    listed = _MAILTO.sub("", text.replace(":::", ",").replace(";", ","))
    addresses = []
    for _, address in getaddresses([listed]):
        address = address.split("?", 1)[0].strip()  # mailto:a@x.com?subject=Hi
        if "@" in address and address not in addresses:
            addresses.append(address)
    if not addresses:
        return text, []
    return addresses[0], addresses[1:]


def split_full_name(text: str) -> tuple[str, str, str]:
    """(first name, last name, salutation) of a name in one cell.

    ``Doe, Jane`` is Jane Doe; ``Dr. John Smith`` is John Smith, salutation
    Dr.; middle names stay with the first name and suffixes (Jr.) with the
    last. nameparser knows the titles, suffixes and surname particles
    (``de la Fontaine``); it is asked only when the name is not two plain
    words, which most are.
    """
    if not _NEEDS_PARSER.search(text.strip()):
        first, _, last = text.strip().partition(" ")
        return first, last.strip(), ""
    from nameparser import HumanName

    name = HumanName(text)
    first = " ".join(part for part in (name.first, name.middle) if part)
    last = " ".join(part for part in (name.last, name.suffix) if part)
    if not first and not last:
        return text.strip(), "", ""
    return first, last, name.title


def fit_lengths(raw: dict[str, Any], extra: dict[str, Any]) -> list[Warning]:
    """Cut names and ``extra`` values to what a contact holds; the warnings saying so.

    The cut keeps the start of the text (a note's first 10,000 characters);
    when ``extra`` as a whole is still too big, its longest values go.
    """
    warnings: list[Warning] = []
    for name in ("first_name", "last_name"):
        value = raw.get(name) or ""
        if len(value) > MAX_NAME_LENGTH:
            raw[name] = value[:MAX_NAME_LENGTH]
            warnings.append((name, f"Cut to its first {MAX_NAME_LENGTH} characters."))
    size = 0
    for key, value in extra.items():
        if len(value) > MAX_EXTRA_VALUE_LENGTH:
            extra[key] = value[:MAX_EXTRA_VALUE_LENGTH]
            warnings.append((key, f"Cut to its first {MAX_EXTRA_VALUE_LENGTH:,} characters."))
        size += len(key) + len(extra[key])
    if 6 * size + 8 * len(extra) <= MAX_EXTRA_BYTES:
        return warnings  # under the limit however it is encoded: the usual row
    for key in sorted(extra, key=lambda k: len(extra[k]), reverse=True):
        if _json_size(extra) <= MAX_EXTRA_BYTES:
            break
        del extra[key]
        warnings.append(
            (key, f"Left out: the extra fields are limited to {MAX_EXTRA_BYTES // 1024} KB in all.")
        )
    return warnings


def _json_size(extra: dict[str, Any]) -> int:
    return len(json.dumps(extra, ensure_ascii=False).encode("utf-8"))
