"""Normalising a contact's fields: one module for the API and the importer.

- emails: trimmed, validated by email-validator (no DNS), lower-cased; the
  checks of a domain are remembered, since an import meets the same few
  domains a million times (every local part is still checked);
- phones: parsed by phonenumbers into E.164 with the configured default
  region; text that does not parse is kept as given, with a warning, and
  never turned into a guessed number; recent answers are remembered;
- names: trimmed, whitespace runs folded, bounded;
- ``extra``: a flat object of user fields, bounded in keys and size so an
  item never nears DynamoDB's 400 KB.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.config import settings
from chalicelib.emails import MAX_LENGTH as MAX_EMAIL_LENGTH
from chalicelib.emails import normalize_email

MAX_NAME_LENGTH = 200
MAX_PHONE_LENGTH = 64
MAX_EXTRA_KEYS = 100
MAX_EXTRA_KEY_LENGTH = 100
MAX_EXTRA_VALUE_LENGTH = 10_000
MAX_EXTRA_BYTES = 64 * 1024
MAX_TAGS = 50
MAX_TAG_LENGTH = 100
# Bounded caches: a few MB at most, however many rows pass through.
EMAIL_DOMAINS_CACHED = 4096
PHONES_CACHED = 16384
CHANNELS = ("email", "sms", "whatsapp")
SUBSCRIPTION_STATUSES = ("subscribed", "unsubscribed", "bounced", "complained")

_SPACES = re.compile(r"\s+")
# Control characters, byte-order marks and bidi overrides: invisible in a
# name, and the overrides can make one name display as another.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\u202a-\u202e\u2066-\u2069]")


class FieldError(ValueError):
    """A value that cannot be stored, with the field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Phone:
    """A phone as stored: E.164 when it parsed, else the text as given."""

    value: str
    valid: bool
    warning: str | None = None
    # "42" of "415-555-0136 ext. 42": no part of the E.164 number, which is dialled.
    extension: str | None = None


def default_region() -> str:
    return settings().default_phone_region


def clean_region(value: str, field: str = "phone_region") -> str:
    """A region code phone numbers can be read in (``FR``, ``gb``): upper-cased."""
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise FieldError(field, "Use a two-letter country code such as FR, GB or US.")
    return code


def clean_name(value: str, field: str) -> str:
    if value.isascii() and value.isprintable():
        # Most names: no control character to drop, and spaces are the only
        # whitespace, so splitting gives what the two substitutions below do.
        text = " ".join(value.split())
    else:
        text = _SPACES.sub(" ", _INVISIBLE.sub("", value)).strip()
    if len(text) > MAX_NAME_LENGTH:
        raise FieldError(field, f"Use at most {MAX_NAME_LENGTH} characters.")
    return text


def clean_email(value: str, field: str = "email") -> str | None:
    """The normalised address, ``None`` for a blank one."""
    text = value.strip()
    if not text:
        return None
    if len(text) <= MAX_EMAIL_LENGTH and (plain := _PLAIN_ADDRESS.match(text)):
        try:
            domain = _remember_email_domains()(plain[2], True, True)["domain"]
        except ValueError:  # email-validator's errors are ValueErrors: it says why, below
            domain = ""
        if domain.isascii() and len(plain[1]) + 1 + len(domain) <= MAX_EMAIL_LENGTH and domain:
            return f"{plain[1]}@{domain}".lower()
    try:
        return normalize_email(value)
    except ValueError as exc:
        raise FieldError(field, str(exc)) from None


# The plainest addresses: a dot-atom local part (RFC 5322 3.2.3, the pattern
# email-validator tries first), one "@", an ASCII host name. For them
# validate_email answers the local part as typed, "@", and its domain check's
# normalised domain, so only that (remembered) check is asked: the rest of
# validate_email is a character-by-character scan for quotes and display
# names, the larger part of an imported row's email. Every other address, and
# any whose domain fails or comes back changed in script or length, goes
# through validate_email whole, answer and message.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_PLAIN_ADDRESS = re.compile(rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@([a-zA-Z0-9.\-]+)\Z")


def clean_phone(value: str, region: str | None = None, field: str = "phone") -> Phone | None:
    """The phone in E.164, or the raw text with a warning; ``None`` for a blank one."""
    text = _SPACES.sub(" ", value).strip()
    if not text:
        return None
    if len(text) > MAX_PHONE_LENGTH:
        raise FieldError(field, f"Use at most {MAX_PHONE_LENGTH} characters.")
    return _parse_phone(text, region or default_region())


@functools.lru_cache(maxsize=PHONES_CACHED)
def _parse_phone(text: str, region: str) -> Phone:
    # Cached: phonenumbers' answer depends on the text and region alone, and
    # a file repeats numbers (a switchboard, a shared line, duplicate rows).
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return Phone(value=e164, valid=True, extension=number.extension or None)
    if _SCIENTIFIC.match(text):
        return Phone(
            value=text,
            valid=False,
            warning="Kept as written: a spreadsheet showed this number in scientific notation "
            "and dropped its last digits. Format the column as text and export it again.",
        )
    if international := _without_its_plus(text, region):
        # Never taken for it unasked: a national number with a digit too many
        # would become a valid foreign one (41555501361 is Swiss).
        warning = (
            f"Kept as written: not a valid phone number for region {region}, but with a + it "
            f"is {international}; add the + if a spreadsheet dropped it."
        )
        return Phone(value=text, valid=False, warning=warning)
    if text.startswith("+") or (
        number is not None and number.country_code != phonenumbers.country_code_for_region(region)
    ):
        # It has a country code already: asking for one would mislead.
        where = f" for +{number.country_code}" if number is not None else ""
        warning = f"Kept as written: not a valid international phone number{where}."
    else:
        warning = (
            f"Kept as written: not a valid phone number for region {region}"
            " (add the country code, e.g. +44…)."
        )
    return Phone(value=text, valid=False, warning=warning)


_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?[eE]\+\d+\Z")


def _without_its_plus(text: str, region: str) -> str | None:
    """The E.164 number ``text`` would be with a ``+`` (``33612345678``: a spreadsheet
    drops the + of a number it takes for a number), when that is valid."""
    import phonenumbers

    digits = text.replace(" ", "")
    if not digits.isdigit() or len(digits) < 11 or digits.startswith("0"):
        return None
    try:
        number = phonenumbers.parse("+" + digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _remember_email_domains() -> Callable[[str, bool, bool], dict[str, str]]:
    """Have email-validator check each domain once, not once per address.

    Its domain checks (IDNA, UTS #46, the special-use names) are two thirds of
    an address's cost and depend on the domain and the options alone, so
    their result is cached where ``validate_email`` looks the function up.
    Everything else, the local part and the address's length included, is
    still checked by ``validate_email`` for every address; a domain that
    fails raises as before and is not cached. Runs once per process, and
    returns the remembered check.
    """
    module = importlib.import_module("email_validator.validate_email")
    checks: Callable[..., dict[str, str]] = module.validate_email_domain_name

    @functools.lru_cache(maxsize=EMAIL_DOMAINS_CACHED)
    def cached(domain: str, test_environment: bool, globally_deliverable: bool) -> dict[str, str]:
        return checks(
            domain, test_environment=test_environment, globally_deliverable=globally_deliverable
        )

    def remembered(
        domain: str, test_environment: bool = False, globally_deliverable: bool = True
    ) -> dict[str, str]:
        return dict(cached(domain, test_environment, globally_deliverable))  # a copy to keep

    vars(module)["validate_email_domain_name"] = remembered
    return remembered


def clean_extra(value: Any, field: str = "extra") -> dict[str, Any]:
    """A flat object of user fields: string keys, scalar values, bounded sizes."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(field, "Use a JSON object of field names to values.")
    if len(value) > MAX_EXTRA_KEYS:
        raise FieldError(field, f"Use at most {MAX_EXTRA_KEYS} fields.")
    cleaned: dict[str, Any] = {}
    # An upper bound of the JSON's size, so most rows need no JSON made: a
    # character of text takes at most 6 bytes (``\u001f``), a number, true,
    # false or null as many as its repr, and a pair 8 more for quotes, colon,
    # comma and spaces.
    bound = 2
    for raw_key, item in value.items():
        key = _clean_key(str(raw_key))
        if not key or len(key) > MAX_EXTRA_KEY_LENGTH:
            raise FieldError(field, f"Field names have 1 to {MAX_EXTRA_KEY_LENGTH} characters.")
        if key in cleaned:
            # "\tcity" and "city " both tidy to "city": one value would be lost.
            raise FieldError(field, f"Two fields are named {key!r} once spaces are tidied.")
        if isinstance(item, dict | list):
            raise FieldError(f"{field}.{key}", "Use text, a number, true/false or null here.")
        if isinstance(item, str) and len(item) > MAX_EXTRA_VALUE_LENGTH:
            raise FieldError(f"{field}.{key}", f"Use at most {MAX_EXTRA_VALUE_LENGTH} characters.")
        if isinstance(item, float) and not math.isfinite(item):  # not valid JSON
            raise FieldError(f"{field}.{key}", "Use a finite number.")
        cleaned[key] = item
        if isinstance(item, str):
            bound += 6 * len(key) + 8 + 6 * len(item)
        elif item is None or isinstance(item, int | float):  # bool is an int
            bound += 6 * len(key) + 8 + len(repr(item))
        else:
            bound = MAX_EXTRA_BYTES + 1  # no bound known: measure the JSON
    if bound <= MAX_EXTRA_BYTES:
        return cleaned
    size = len(json.dumps(cleaned, ensure_ascii=False).encode("utf-8"))
    if size > MAX_EXTRA_BYTES:
        raise FieldError(field, f"Keep these fields under {MAX_EXTRA_BYTES // 1024} KB in all.")
    return cleaned


@functools.lru_cache(maxsize=1024)
def _clean_key(raw_key: str) -> str:
    # Remembered: an import sends the same column names with every row.
    return _SPACES.sub(" ", raw_key).strip()


def clean_tags(value: Any, field: str = "tags") -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise FieldError(field, "Use a list of text tags.")
    tags: list[str] = []
    for tag in value:
        text = _SPACES.sub(" ", tag).strip()
        if not text:
            continue
        if len(text) > MAX_TAG_LENGTH:
            raise FieldError(field, f"A tag has at most {MAX_TAG_LENGTH} characters.")
        if text not in tags:
            tags.append(text)
    if len(tags) > MAX_TAGS:
        raise FieldError(field, f"Use at most {MAX_TAGS} tags.")
    return tags
