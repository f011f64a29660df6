"""Numbers shown in the cell's number format, as Excel shows them (en-US).

A contact list's numbers are mostly amounts, rates and codes: ``0.25`` in a
``0%`` cell is "25%" to the person who made the file, ``1234.5`` in a
``$#,##0.00`` cell is "$1,234.50", ``4155550134`` in ``(###) ###-####`` is
"(415) 555-0134". The formats read here are those: sections for positive,
negative and zero; ``0 # ?`` digits with literals between them; thousands
separators and scaling commas; decimals; percent; quoted text, escaped
characters, currency tags (``[$€-407]``), colours, ``_`` spacing and ``*``
fill. Anything else (conditions, fractions, exponents, date or text codes)
is not guessed at: :func:`formatted` returns None and the caller shows the
plain number. No maintained library renders these (the one on PyPI gets
rounding, currency and zero-padding wrong), and a misread format here can
only ever change how an ``extra`` value reads, never lose it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

_DIGITS = "0#?"
# Shown as they are without quotes (Excel's list), plus the usual currency signs.
# "/" is left out: between digits it makes a fraction, not read here.
_PLAIN = set("$-+():!^&'~{}<>= €£¥₹")


@dataclass
class _Section:
    integer: list[str] = field(default_factory=list)  # placeholders, and literals between
    fraction: list[str] = field(default_factory=list)
    prefix: str = ""
    suffix: str = ""
    grouped: bool = False
    scale: int = 0  # powers of 1,000 divided by (commas after the last digit)
    percent: int = 0


def formatted(value: int | float, code: str) -> str | None:
    """The text Excel shows for ``value`` in format ``code``, or None for a format not read here."""
    sections = _compile(code)
    if sections is None:
        return None
    if value < 0 and len(sections) > 1:
        return _render(sections[1], -value, sign="")  # its own section shows no minus
    if value == 0 and len(sections) > 2:
        return _render(sections[2], 0, sign="")
    return _render(sections[0], abs(value), sign="-" if value < 0 else "")


@functools.lru_cache(maxsize=256)
def _compile(code: str) -> tuple[_Section, ...] | None:
    sections = []
    # Positive, negative, zero; a fourth section is for text, never a number.
    for text in _split(code)[:3]:
        section = _parse(text)
        if section is None:
            return None
        sections.append(section)
    return tuple(sections) if sections and sections[0].integer + sections[0].fraction else None


def _split(code: str) -> list[str]:
    """The format's sections, split at ``;`` outside quotes, brackets and escapes."""
    sections, current, quoted, bracket, index = [], "", False, False, 0
    while index < len(code):
        char = code[index]
        if char == "\\" and not quoted:
            current += code[index : index + 2]
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == "[" and not quoted:
            bracket = True
        elif char == "]" and not quoted:
            bracket = False
        elif char == ";" and not quoted and not bracket:
            sections.append(current)
            current = ""
            index += 1
            continue
        current += char
        index += 1
    sections.append(current)
    return sections


def _parse(text: str) -> _Section | None:
    section = _Section()
    tokens: list[tuple[str, str]] = []  # ("digit" | "dot" | "comma" | "text", value)
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            end = text.find('"', index + 1)
            if end < 0:
                return None
            tokens.append(("text", text[index + 1 : end]))
            index = end + 1
            continue
        if char == "\\":
            tokens.append(("text", text[index + 1 : index + 2]))
            index += 2  # the escaped character is text, never read again as a code
            continue
        if char == "_":
            tokens.append(("text", " "))  # a space as wide as the next character
            index += 1
        elif char == "*":
            index += 1  # fill the cell with the next character: nothing as text
        elif char == "[":
            end = text.find("]", index)
            tag = text[index + 1 : end] if end > 0 else ""
            if tag.startswith("$"):
                tokens.append(("text", tag[1:].split("-")[0]))  # [$€-407]: the sign
            elif not tag.isalpha() and not tag.startswith("Color"):
                return None  # a condition ([<100]) or elapsed time ([h])
            index = end + 1 if end > 0 else len(text)
            continue
        elif char in _DIGITS:
            tokens.append(("digit", char))
        elif char == ".":
            tokens.append(("dot", char))
        elif char == ",":
            tokens.append(("comma", char))
        elif char == "%":
            section.percent += 1
            tokens.append(("text", "%"))
        elif char in _PLAIN:
            tokens.append(("text", char))
        else:
            return None  # exponents, dates, text (@), fractions' letters: not read here
        index += 1
    return _layout(section, tokens)


def _layout(section: _Section, tokens: list[tuple[str, str]]) -> _Section | None:
    """Place the tokens: text before the first digit, the number, text after the last."""
    digit_positions = [i for i, (kind, _) in enumerate(tokens) if kind == "digit"]
    dots = [i for i, (kind, _) in enumerate(tokens) if kind == "dot"]
    if not digit_positions:
        if dots:
            return None
        section.prefix = "".join(value for kind, value in tokens if kind == "text")
        return section  # text only: a zero section such as "-"
    if len(dots) > 1:
        return None
    dot = dots[0] if dots else None
    # ".00" starts at its point: nothing before it is the prefix's.
    first = min(digit_positions[0], dot) if dot is not None else digit_positions[0]
    last = max(digit_positions[-1], dot if dot is not None else -1)
    section.prefix = "".join(value for kind, value in tokens[:first] if kind != "comma")
    end = last
    # Commas right after the number divide it by 1,000 each ("0.0,," shows millions).
    while end + 1 < len(tokens) and tokens[end + 1][0] == "comma":
        section.scale += 1
        end += 1
    section.suffix = "".join(value for kind, value in tokens[end + 1 :] if kind != "comma")
    for index in range(first, last + 1):
        kind, value = tokens[index]
        in_fraction = dot is not None and index > dot
        if kind == "comma":
            if in_fraction:
                return None
            section.grouped = True
        elif kind == "digit":
            (section.fraction if in_fraction else section.integer).append(value)
        elif kind == "text":
            if in_fraction:
                return None
            section.integer.append("\0" + value)  # a literal among the digits
    if section.grouped and any(part.startswith("\0") for part in section.integer):
        return None  # groups and literals among the same digits: not read here
    return section


def _render(section: _Section, value: int | float, sign: str) -> str:
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    number = number * 100**section.percent / 1000**section.scale
    rounded = number.quantize(Decimal(1).scaleb(-len(section.fraction)), rounding=ROUND_HALF_UP)
    whole, _, decimals = f"{rounded:f}".partition(".")
    if not section.integer and not section.fraction:
        return " ".join((sign + section.prefix + section.suffix).split())
    integer_text = _integer(section, "" if whole == "0" else whole)
    fraction_text = _fraction(section.fraction, decimals)
    point = "." if section.fraction else ""
    if sign and not (integer_text.strip("0, ") or fraction_text.strip("0 ")):
        sign = ""  # -0.001 in 0.00 shows as 0.00, not -0.00
    text = sign + section.prefix + integer_text + point + fraction_text + section.suffix
    return " ".join(text.split())  # spacing (_x) and padding (?) are layout, not text


def _integer(section: _Section, digits: str) -> str:
    placeholders = section.integer
    if section.grouped:
        needed = sum(1 for p in placeholders if p == "0")
        digits = digits.rjust(needed, "0") if digits else "0" * needed
        groups: list[str] = []
        while len(digits) > 3:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        return ",".join([digits, *groups]) if digits else ",".join(groups)
    # Digits fill the placeholders from the right, literals staying in place;
    # the leftmost placeholder takes every digit left over.
    out: list[str] = []
    remaining = digits
    slots = [i for i, p in enumerate(placeholders) if not p.startswith("\0")]
    if not slots:  # ".00": the whole number still shows, as Excel shows it
        return "".join(p[1:] for p in placeholders) + digits
    for index in range(len(placeholders) - 1, -1, -1):
        part = placeholders[index]
        if part.startswith("\0"):
            out.append(part[1:])
        elif index == slots[0]:
            out.append(remaining or {"0": "0", "?": " "}.get(part, ""))
            remaining = ""
        elif remaining:
            out.append(remaining[-1])
            remaining = remaining[:-1]
        else:
            out.append({"0": "0", "?": " "}.get(part, ""))
    return "".join(reversed(out))


def _fraction(placeholders: list[str], decimals: str) -> str:
    text = list(decimals.ljust(len(placeholders), "0")[: len(placeholders)])
    # Trailing zeros show only for "0" placeholders; "?" keeps their room as spaces.
    for index in range(len(placeholders) - 1, -1, -1):
        if text[index] != "0" or placeholders[index] == "0":
            break
        text[index] = " " if placeholders[index] == "?" else ""
    return "".join(text)
