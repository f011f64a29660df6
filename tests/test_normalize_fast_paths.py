"""Normalising's fast paths (remembered domains and phones, small extras) answer as before."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

ADDRESSES = [
    "Ana@Example.COM",
    "bruno@example.com",
    "  carla@example.com ",
    "x@münchen.de",
    "Y@MÜNCHEN.DE",
    "ä@example.com",
    "postmaster@example.com",
    "a@sub.example.test",
    "a@localhost",
    "a@example.local",
    "a@example",
    "a@-bad.com",
    "a@exa_mple.com",
    "a@[127.0.0.1]",
    '"a b"@example.com',
    "a..b@example.com",
    "Ana <ana@example.com>",
    "a" * 64 + "@" + "b" * 63 + ".com",
    "a" * 65 + "@example.com",
    "a@" + ("b" * 63 + ".") * 4 + "com",
    "no-at-sign.example.com",
]

PHONES = [
    ("+1 202-555-0143", None),
    ("(202) 555-0143", "US"),
    ("020 7946 0018", "GB"),  # the same text in two regions: two answers
    ("020 7946 0018", "FR"),
    ("06 12 34 56 78", "FR"),
    ("+33 6 12 34 56 78", "GB"),
    ("12", None),
    ("call me maybe", None),
    ("+999 123", None),
]


def _outcome(check: Any, *args: Any) -> Any:
    from chalicelib.contacts.normalize import FieldError

    try:
        return check(*args)
    except FieldError as exc:
        return ("error", exc.field, exc.message)


def test_can_validate_emails_with_remembered_domains_exactly_as_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import email_validator.syntax

    from chalicelib.contacts.normalize import clean_email

    clean_email("first@example.com")  # installs the remembered domain checks
    module = importlib.import_module("email_validator.validate_email")
    with monkeypatch.context() as uncached:
        uncached.setitem(
            vars(module),
            "validate_email_domain_name",
            email_validator.syntax.validate_email_domain_name,
        )
        expected = [_outcome(clean_email, a) for a in ADDRESSES]
    assert [_outcome(clean_email, a) for a in ADDRESSES] == expected
    assert [_outcome(clean_email, a) for a in ADDRESSES] == expected  # from the cache
    assert expected[0] == "ana@example.com"
    assert expected[3] == expected[4].replace("y@", "x@") == "x@münchen.de"
    assert expected[11][0] == "error"  # a bad domain fails every time, never cached


def _generated_addresses(count: int) -> list[str]:
    """Addresses near the plain shape: specials, dots, case, IDNA, lengths, unicode."""
    import random

    rng = random.Random(20261204)
    local_chars = "abcXYZ019._+-!#$%&'*/=?^`{|}~\"(),:;<>@[] é"
    hosts = [
        "example.com",
        "EXAMPLE.COM",
        "sub.example.test",
        "xn--bcher-kva.example",
        "-bad.com",
        "bad-.com",
        "a..b.com",
        "example",
        "localhost",
        "exa_mple.com",
        "münchen.de",
        "b" * 63 + ".com",
        "b" * 64 + ".com",
        ".example.com",
        "example.com.",
        "123.com",
        "example.c0m",
        "invalid",
        "[127.0.0.1]",
        "",
    ]
    addresses = []
    for _ in range(count):
        local = "".join(rng.choice(local_chars) for _ in range(rng.choice([1, 2, 5, 12, 64, 65])))
        address = f"{local}@{rng.choice(hosts)}"
        if rng.random() < 0.1:
            address = address.replace("@", "@@" if rng.random() < 0.5 else "", 1)
        if rng.random() < 0.05:
            address = "a" * rng.choice([180, 240]) + address
        addresses.append(address)
    return addresses


def test_can_validate_plain_addresses_by_their_domain_alone_exactly_as_email_validator() -> None:
    from chalicelib.contacts.normalize import FieldError, clean_email
    from chalicelib.emails import normalize_email

    def library(address: str) -> Any:
        try:
            return normalize_email(address)
        except ValueError as exc:
            return ("error", "email", str(exc))

    # A blank address is no address (None), which validate_email does not judge.
    addresses = [a for a in [*ADDRESSES, *_generated_addresses(5000)] if a.strip()]
    answers = [_outcome(clean_email, address) for address in addresses]
    assert answers == [library(address) for address in addresses]
    accepted = [answer for answer in answers if isinstance(answer, str)]
    assert len(accepted) > 300  # the plain shape was met, not only refusals
    with pytest.raises(FieldError):
        clean_email("a..b@example.com")


def test_can_read_phones_from_the_cache_exactly_as_phonenumbers_answers() -> None:
    from chalicelib.contacts.normalize import _parse_phone, clean_phone, default_region

    uncached = _parse_phone.__wrapped__
    expected = [uncached(text, region or default_region()) for text, region in PHONES]
    for _ in range(2):  # cold, then cached
        assert [clean_phone(text, region) for text, region in PHONES] == expected
    assert expected[0].value == "+12025550143" and expected[0].valid
    assert not expected[7].valid and expected[7].warning


@pytest.mark.parametrize(
    ("extra", "fits"),
    [
        ({"note": "x" * 9_000, "more": "y" * 9_000}, True),  # ~18 KB of text
        ({f"k{i}": "é" * 9_000 for i in range(3)}, True),  # 54 KB in UTF-8: bound passed, fits
        ({f"k{i}": "é" * 9_000 for i in range(4)}, False),  # 72 KB in UTF-8
        ({f"k{i}": "\x01" * 2_000 for i in range(6)}, False),  # 12,000 chars, 72 KB escaped
        ({f"k{i}": "a" * 9_990 for i in range(6)}, True),  # 59.9 KB
        ({f"k{i}": "a" * 9_990 for i in range(7)}, False),  # 69.9 KB
        ({"n": 10**300, "f": -1.5e-300, "b": True, "z": None}, True),
    ],
)
def test_error_on_extra_over_64_kb_whether_or_not_the_json_is_measured(
    extra: dict[str, Any], fits: bool
) -> None:
    import json

    from chalicelib.contacts.normalize import MAX_EXTRA_BYTES, FieldError, clean_extra

    assert (len(json.dumps(extra, ensure_ascii=False).encode()) <= MAX_EXTRA_BYTES) == fits
    if fits:
        assert clean_extra(extra) == extra
    else:
        with pytest.raises(FieldError, match="under 64 KB"):
            clean_extra(extra)
