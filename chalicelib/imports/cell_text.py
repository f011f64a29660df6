"""Cell values as the text Excel shows in the cell."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.imports.number_formats import formatted

_ZEROS = re.compile(r"^0+$")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def value_text(value: Any, number_format: str = "General") -> str:
    """A value as the text Excel shows in a cell of ``number_format``."""
    if isinstance(value, str):  # most cells: checked first
        return unescaped(value) if "_x" in value else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        moment = _to_the_second(value)
        if moment.time() == dt.time(0, 0) or not _shows_time(number_format):
            return moment.date().isoformat()  # a date format shows no time of day
        return moment.isoformat()
    if isinstance(value, dt.time):
        moment = _to_the_second(dt.datetime.combine(dt.date(2000, 1, 1), value))
        return moment.time().isoformat()  # 23:59:59.6 shows as 0:00:00, as in Excel
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    if isinstance(value, int | float):
        return _number_text(value, number_format)
    return str(value)


def unescaped(text: str) -> str:
    """Text with the sheet XML's ``_xHHHH_`` escapes decoded.

    Excel writes characters XML cannot hold (a carriage return, control
    characters) as ``_x000D_``, and an underscore before text that looks like
    an escape as ``_x005F_``. openpyxl leaves inline strings as written and
    only drops ``x005F_`` from shared ones; one pass left to right decodes
    both the same way (``_x005F_x000D_`` is the text ``_x000D_``).
    """
    return _ESCAPE.sub(_escaped_character, text)


def _escaped_character(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    if 0xD800 <= code <= 0xDFFF:
        return match.group(0)  # half a surrogate pair is no character: keep the text
    return chr(code)


def _number_text(value: int | float, number_format: str) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # no spreadsheet writes these (1e400 reads as inf): shown, not formatted
    if _ZEROS.match(number_format):
        # "00000" keeps the leading zeros of postcodes and phone numbers, and
        # shows a whole number, rounded half away from zero (2134.6 is 02135).
        whole = int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return ("-" if whole < 0 else "") + str(abs(whole)).zfill(len(number_format))
    if number_format != "General":
        shown = formatted(value, number_format)  # "25%", "$1,234.50", "(415) 555-0134"
        if shown is not None:
            return shown
    if isinstance(value, float):
        # Excel keeps 15 significant digits; a double's further digits were
        # never typed (12345678901234567890 is stored as ...69216).
        digits = Decimal(format(value, ".15g"))
        if digits != digits.to_integral_value():
            # No exponent: 1.5e-07 is shown as 0.00000015, as Excel's General does.
            return format(digits.normalize(), "f")
        value = int(digits)
    return str(value)


_QUOTED = re.compile(r'"[^"]*"|\\.|\[\$[^\]]*\]')


def _shows_time(number_format: str) -> bool:
    """Whether a date format shows a time of day (h, s, AM/PM outside quotes)."""
    if number_format == "General":
        return True
    codes = _QUOTED.sub("", number_format)
    return any(c in codes for c in "hHsS") or "AM/PM" in codes.upper()


def _to_the_second(value: dt.datetime) -> dt.datetime:
    """Rounded to the second, as a format without fractions of one shows it (9:29:59.97
    is 9:30:00)."""
    if not value.microsecond:
        return value
    return value.replace(microsecond=0) + dt.timedelta(seconds=value.microsecond >= 500_000)


def _duration_text(value: dt.timedelta) -> str:
    """A duration as ``[h]:mm:ss`` shows it: ``27:05:00``, never ``1 day, 3:05:00``."""
    seconds = round(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
