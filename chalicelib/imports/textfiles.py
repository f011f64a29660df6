"""CSV and other delimited text files, as people's tools really write them.

Encoding: a byte-order mark decides (UTF-8, UTF-16 LE/BE, as Excel's "CSV
UTF-8" and "Unicode text" write); else UTF-16 without a BOM shows as NUL
bytes in every other place; else the whole file is checked as UTF-8; else it
is Windows-1252, what Excel writes in Western Europe and the Americas,
unless it reads as the code page of another script (Central European,
Cyrillic, Greek, Hebrew, Arabic, Japanese, Chinese, Korean; see
:mod:`.code_pages`).
Never latin-1: it decodes anything and silently turns ``’`` and ``€`` into
control characters.

Delimiter: ``,`` ``;`` tab ``|`` — whichever splits the first lines into the
same number of fields, more than one. Quoted line breaks and doubled quotes
are the csv module's job.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

DELIMITERS = (",", ";", "\t", "|")
UTF8_LENIENT = "utf-8-lenient"  # UTF-8 with its few bad bytes replaced
_SAMPLE_BYTES = 64 * 1024
_SCAN_CHUNK = 1024 * 1024
# csv's default limit (128 KB) is below what a long note field can hold.
csv.field_size_limit(16 * 1024 * 1024)


class UnreadableFileError(ValueError):
    """The file cannot be read as contacts; the message is for a person."""


@dataclass(frozen=True)
class TextFormat:
    encoding: str
    delimiter: str


def detect_encoding(stream: BinaryIO) -> str:
    """The encoding of a seekable byte stream (position restored to 0)."""
    stream.seek(0)
    head = stream.read(_SAMPLE_BYTES)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and (utf16 := _utf16_without_bom(head)):
        return utf16
    # Stray NULs and NUL padding (a tool's fixed-size buffer) are not binary:
    # they are dropped from the cells. A sample a tenth NULs is.
    body = head.rstrip(b"\x00")
    if body.count(0) > max(16, len(body) // 10) or _looks_binary(body):
        raise UnreadableFileError(
            "This is not a text file (it contains binary data). Upload a CSV or XLSX file."
        )
    return _utf8_or_cp1252(stream)


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the sample is UTF-16 text without a byte-order mark.

    Latin text puts a NUL in every other byte; Cyrillic or Greek only where
    the ASCII is (delimiters, line ends, emails), so NULs on one side are
    a hint, and reading the sample as UTF-16 into printable text the proof.
    """
    even, odd = head[0::2], head[1::2]
    for encoding, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if high.count(0) < len(high) * 0.05 or low.count(0) > len(low) * 0.02:
            continue
        try:
            text = head[: len(head) - len(head) % 2].decode(encoding)
        except UnicodeDecodeError:
            text = head[: len(head) - len(head) % 2 - 2].decode(encoding, "replace")
        printable = sum(c.isprintable() or c in "\t\r\n" for c in text)
        if printable >= len(text) * 0.95:
            return encoding
    return None


def _looks_binary(head: bytes) -> bool:
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 0))
    return control > len(head) // 20


def _utf8_or_cp1252(stream: BinaryIO) -> str:
    """``utf-8`` if the whole file is UTF-8, ``utf-8-lenient`` if it mostly is, else cp1252.

    One bad byte in a UTF-8 file must not turn every ``é`` into ``Ã©``: when
    the file's valid multi-byte characters outnumber its bad bytes, it is
    UTF-8 with a few bytes replaced; cp1252 text almost never contains valid
    UTF-8 sequences.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    bad = good = 0
    try:
        while chunk := stream.read(_SCAN_CHUNK):
            text = decoder.decode(chunk)
            if not chunk.isascii():
                replaced = text.count("\ufffd")
                bad += replaced
                # Non-ASCII characters: all but those an ASCII encoding keeps.
                good += len(text) - len(text.encode("ascii", "ignore")) - replaced
        text = decoder.decode(b"", final=True)
        bad += text.count("\ufffd")
    finally:
        stream.seek(0)
    if bad == 0:
        return "utf-8"
    if good >= bad and good > 0:
        return UTF8_LENIENT
    from chalicelib.imports.code_pages import legacy_code_page

    return legacy_code_page(stream)


def detect_delimiter(sample: str, complete: bool = False) -> str:
    """The delimiter that splits the sample's first lines most consistently (``complete``:
    the sample is the whole file, so its last row is whole too)."""
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        try:
            rows = [
                row
                for row in csv.reader(io.StringIO(sample, newline=None), delimiter=delimiter)
                if any(cell.strip() for cell in row)
            ][:50]
        except csv.Error:
            continue  # this delimiter cannot even read the sample
        if len(rows) > 1 and not complete:
            rows = rows[:-1]  # the sample may end mid-row
        if not rows:
            continue
        # The most common width: title lines above the header are narrower.
        widths = [len(row) for row in rows]
        # On a tie (one title line, one data row) the wider is the table's.
        width = max(set(widths), key=lambda w: (widths.count(w), w))
        if width < 2:
            continue
        consistent = widths.count(width) / len(rows)
        score = consistent * 1000 + min(width, 100)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def open_text(stream: BinaryIO) -> tuple[TextFormat, io.TextIOWrapper]:
    """The detected format and a text stream over the file (universal newlines off)."""
    encoding = detect_encoding(stream)
    # Only a file checked whole (plain UTF-8) is decoded strictly. A stray
    # byte in a file with a BOM, a truncated UTF-16 file or one of cp1252's
    # five undefined bytes becomes U+FFFD in its cell instead of failing
    # the file. Universal newlines: CR-only (old Mac) files read too, and
    # quoted line breaks arrive as "\n", as they are stored anyway.
    errors = "strict" if encoding == "utf-8" else "replace"
    codec = "utf-8" if encoding == UTF8_LENIENT else encoding
    text = io.TextIOWrapper(stream, encoding=codec, errors=errors, newline=None)
    sample = text.read(_SAMPLE_BYTES)
    text.seek(0)
    delimiter = detect_delimiter(sample, complete=len(sample) < _SAMPLE_BYTES)
    return TextFormat(encoding=encoding, delimiter=delimiter), text


def read_rows(stream: BinaryIO) -> tuple[TextFormat, Iterator[list[str]]]:
    """Every row of the file as a list of cell strings (line breaks inside quotes kept).

    A line the csv module cannot read (a NUL byte, say) raises
    :class:`UnreadableFileError` naming the line, for the job to report.
    """
    fmt, text = open_text(stream)
    first = text.readline()
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        # Excel's "sep=;" line names the delimiter and is no row.
        fmt = TextFormat(encoding=fmt.encoding, delimiter=first.strip()[4])
        return fmt, _rows(csv.reader(_ended(text), delimiter=fmt.delimiter), first_line=2)
    text.seek(0)
    return fmt, _rows(csv.reader(_ended(text), delimiter=fmt.delimiter))


# A last line after the file's own: read as a row of its own it is dropped;
# found inside a cell, a quote opened before it was never closed. (csv's
# strict mode would say so too, but also refuses "John" Smith, which Excel
# reads.) NULs never reach a cell, so no file can hold this line.
_END = "\x00end of file\x00"


# What a row made only of is blank: whitespace, NULs, DOS's Ctrl-Z, and the
# replacement character undecodable bytes became.
_NOTHING = " \t\r\n\x00\x1a\ufffd"


def _ended(text: Iterable[str]) -> Iterator[str]:
    yield from text
    yield _END + "\n"  # a line of its own: csv ends a record with each line it is given


def _rows(reader: Any, first_line: int = 1) -> Iterator[list[str]]:
    if first_line > 1:
        yield []  # keeps row numbers those of the file: the sep= line is row 1
    line = reader.line_num
    try:
        for row in reader:
            if row and _END in row[-1]:
                if row == [_END]:
                    return
                raise UnreadableFileError(
                    f"A quote opened on line {line + first_line} is never closed, so the "
                    "rest of the file would be one cell. Close the quote (or remove it) "
                    "and import the file again."
                )
            line = reader.line_num
            if not "".join(row).strip(_NOTHING):
                # DOS's end-of-file mark (Ctrl-Z), or a line of bytes that were not
                # text: a blank row, not a contact with an invalid email.
                yield []
                continue
            # A NUL is never meant; keep the rest of the cell.
            yield [cell.replace("\x00", "") for cell in row]
    except csv.Error as exc:
        raise UnreadableFileError(f"Line {reader.line_num} cannot be read: {exc}.") from None
