"""Which legacy code page a text file that is not UTF-8 was saved in.

Excel's "CSV" is saved in the code page of the Windows it ran on:
Windows-1252 in Western Europe and the Americas, and others elsewhere. A
byte means a different letter in each, and nearly any bytes decode in
nearly any of them, so the question is which reading looks like text.

charset-normalizer's measures (how messy, which language) judge long
samples well and short ones badly: a one-row file of capitals (``NÚÑEZ``,
``МАРИЯ``) read best to it as half-width Japanese. So each reading must
first look like its own script, word by word, as a person would judge it:

- Western (cp1252): a word's accented letters are a few among plain ones
  (``Müller``, ``NÚÑEZ``); Cyrillic or Greek read as cp1252 gives words made
  of nothing else (``Ìàðèÿ``); Polish read as cp1252 puts symbols in words
  (``£ukasz``, ``¿ona``), where cp1250 gives letters;
- Cyrillic, Greek, Hebrew, Arabic: the letters beyond ASCII are of that
  script, and few words mix them with Latin letters (Western text read as
  cp1251 does: ``Kьзьk``);
- Japanese, Chinese, Korean: their characters, including some of their
  main blocks (half-width katakana alone is what Cyrillic capitals read as
  in cp932), and few words mixed with Latin letters.

Only when several readings pass does charset-normalizer choose among them.
The sample is the file's lines that hold any byte beyond ASCII, from its
whole length: a Russian name in the last row of a long English list counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import BinaryIO

WESTERN = "cp1252"
# In the order that breaks a tie.
CANDIDATES = (
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1256",
    "cp1255",
    "cp932",
    "gb18030",
    "cp949",
    "big5",
)
SAMPLE_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
_WORD = re.compile(r"[^\s,;|\"'()<>\[\]{}@./:=+*&#!?_\-–—]+")
# What Central European letters become in cp1252, inside words: never in
# Western names (ą ¹, ł ³, Ł £, Ą ¥, ź/Ź/Ť/ť at undefined bytes).
_CP1250_SIGNS = frozenset("£¥¹³²¼½¾¦¤¬\ufffd")
# Punctuation cp1252 puts at 0x80-0x9F, where East Asian code pages have their
# lead bytes; between two letters, no Western text has them (but ’).
_BETWEEN_LETTERS = frozenset("“”„‚‹›•†‡‰ˆ˜…‘")
# Accented letters a Western word has are a few; more than this share of its
# letters, on average, is another script read as cp1252.
_WESTERN_MAX_SHARE = 0.55
_CENTRAL_MAX_SHARE = 0.8
# Words mixing scripts, of the words beyond ASCII, a real file rarely passes
# ("ABC株式会社"); a reading in the wrong code page nearly always does.
_MAX_MIXED = 0.3

_SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "cp1251": ((0x0400, 0x04FF),),
    "cp1253": ((0x0370, 0x03FF), (0x1F00, 0x1FFF)),
    "cp1255": ((0x0590, 0x05FF),),
    "cp1256": ((0x0600, 0x06FF), (0xFB50, 0xFEFF)),
}
_CJK = ((0x3000, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))
_CJK_MAIN = ((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF))
_HALF_WIDTH_KANA = ((0xFF61, 0xFF9F),)
# Where each East Asian code page keeps its everyday characters, by lead byte
# (and the lowest trail byte): Shift-JIS kana and level-1 kanji, GB2312's
# hanzi, KS X 1001's Hangul syllables, Big5's frequent characters. Another
# code page's text read in one of these lands mostly elsewhere, on rare
# characters.
_EVERYDAY = {
    "cp932": (range(0x82, 0x99), 0x40),
    "gb18030": (range(0xB0, 0xF8), 0xA1),
    "cp949": (range(0xB0, 0xC9), 0xA1),
    "big5": (range(0xA4, 0xC7), 0x40),
}
# Greek letters rare in Greek, common in Hebrew read as Greek (א is ΰ, ת is ϊ).
_RARE_GREEK = frozenset("ΐΰϊϋΪΫ")
_GREEK_ACCENTED = frozenset("άέήίόύώΐΰΆΈΉΊΌΎΏ")
_MULTI_BYTE = frozenset({"cp932", "gb18030", "cp949", "big5"})
# Vowels, in the scripts whose words need them: a reading of other bytes as
# Cyrillic or Greek ("лдп ъм") has too few.
_VOWELS = {
    "cp1251": frozenset("аеёийоуыэюяАЕЁИЙОУЫЭЮЯіїєІЇЄ"),
    "cp1253": frozenset("αεηιουωάέήίόύώΑΕΗΙΟΥΩΆΈΉΊΌΎΏ"),
}
_MIN_VOWELS = 0.3


def legacy_code_page(stream: BinaryIO) -> str:
    """The code page the (non-UTF-8) file reads as; cp1252 unless another is clearly it."""
    sample = non_ascii_lines(stream)
    if not sample or looks_western(sample.decode(WESTERN, "replace")):
        return WESTERN
    readings = {}
    # Central European only where cp1252 showed its letters as symbols (£ukasz):
    # elsewhere the two read alike, or cp1252 is the likelier.
    signed = any(c in _CP1250_SIGNS for c in sample.decode(WESTERN, "replace"))
    for encoding in CANDIDATES if signed else CANDIDATES[1:]:
        try:
            readings[encoding] = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
    plausible = [name for name, text in readings.items() if _judge(name)(text)]
    if len(plausible) <= 1:
        return plausible[0] if plausible else WESTERN
    plausible = _most_common_characters(plausible, readings)
    if len(plausible) == 1:
        return plausible[0]
    from charset_normalizer import from_bytes

    ranked = sorted(
        from_bytes(sample, cp_isolation=plausible),
        key=lambda m: (round(m.chaos, 2), -round(m.coherence, 2), plausible.index(m.encoding)),
    )
    return str(ranked[0].encoding) if ranked else plausible[0]


def non_ascii_lines(stream: BinaryIO) -> bytes:
    """Up to SAMPLE_BYTES of the file's lines that hold a byte beyond ASCII (position kept
    at 0). Line ends are never the second byte of a character in these code pages."""
    lines: list[bytes] = []
    size = 0
    carry = b""
    try:
        while size < SAMPLE_BYTES and (chunk := stream.read(_CHUNK)):
            data = carry + chunk
            if data.isascii():
                carry = data[max(data.rfind(b"\n"), data.rfind(b"\r")) + 1 :]
                continue
            *complete, carry = re.split(rb"[\r\n]+", data)
            for line in complete:
                if not line.isascii():
                    lines.append(line)
                    size += len(line) + 1
        if carry and not carry.isascii():
            lines.append(carry)
    finally:
        stream.seek(0)
    sample = b"\n".join(lines)
    if len(sample) > SAMPLE_BYTES:
        sample = sample[: sample.rfind(b"\n", 0, SAMPLE_BYTES)]  # no character cut in two
    return sample


def looks_western(text: str, max_share: float = _WESTERN_MAX_SHARE) -> bool:
    """Whether text read as cp1252 (or cp1250) has the words of a Western language."""
    shares: list[float] = []
    words = signed = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        words += 1
        letters = [c for c in word if c.isalpha()]
        signed += _has_signs(word, len(letters))
        if len(letters) >= 2:  # "Ó" (Ó Briain), "1ª": too short to judge by their letters
            shares.append(sum(not c.isascii() for c in letters) / len(letters))
    if signed > words * 0.1:
        return False
    return not shares or sum(shares) / len(shares) <= max_share


def _has_signs(word: str, letters: int) -> bool:
    """Whether a word shows another code page read as cp1252: Polish letters as symbols
    (``£ukasz``), a byte cp1252 leaves undefined, quotes or marks between letters
    (``ŽR“c``), or a word of symbols (``°ª¶¯``)."""
    if any(c in _CP1250_SIGNS for c in word):
        return True
    inside = any(
        c in _BETWEEN_LETTERS and word[i - 1].isalpha() and word[i + 1].isalpha()
        for i, c in enumerate(word[1:-1], start=1)
    )
    beyond = sum(not c.isascii() for c in word)
    return inside or (beyond >= 3 and letters * 2 < beyond)


def _judge(encoding: str) -> Callable[[str], bool]:
    if encoding == "cp1250":
        # Central European words carry more accents than Western ones (Łódź).
        return lambda text: looks_western(text, _CENTRAL_MAX_SHARE)
    if encoding in _MULTI_BYTE:
        return _looks_cjk
    return lambda text: _looks_like(text, encoding)


def _looks_like(text: str, encoding: str) -> bool:
    """Letters beyond ASCII of the script, in words of their own, cased as words are,
    with the vowels words need, and no symbols inside words (``±и№ОБШ``)."""
    ranges = _SCRIPTS[encoding]
    letters = [c for c in text if not c.isascii() and c.isalpha()]
    if not letters or sum(_within(c, ranges) for c in letters) < len(letters) * 0.9:
        return False
    words = [w for w in _WORD.findall(text) if any(_within(c, ranges) for c in w)]
    if _mixed_share(words) > _MAX_MIXED or _symbol_share(words) > 0.1:
        return False
    # Real words: of two letters or more (a lone "У" is "Ó" misread), and
    # few vowel points (Cyrillic capitals read as Hebrew are points).
    if sum(sum(c.isalpha() for c in w) >= 2 for w in words) < len(words) * 0.5:
        return False
    marks = sum(unicodedata.category(c).startswith("M") for w in words for c in w)
    if marks > sum(len(w) for w in words) * 0.1:
        return False
    vowels = _VOWELS.get(encoding)
    if vowels is None:  # Hebrew and Arabic: no case, vowels mostly unwritten
        return True
    spelt = ["".join(c for c in w if c.isalpha()) for w in words]  # Мар’яна is title case
    odd_case = sum(not (w.islower() or w.isupper() or w.istitle()) for w in spelt)
    # Names are capitalised; Hebrew read as Cyrillic or Greek is all small letters.
    capitalised = sum(w[:1].isupper() for w in spelt)
    voiced = sum(c in vowels for c in letters) / len(letters)
    return (
        odd_case <= len(words) * 0.2
        and capitalised >= len(words) * 0.2
        and voiced >= _MIN_VOWELS
        and (encoding != "cp1253" or _greek_spelling(spelt))
    )


def _greek_spelling(words: list[str]) -> bool:
    """Greek as written: final sigma only at a word's end, an accent on most small-letter
    words of two syllables or more, few of the rare letters (Hebrew read as Greek fails)."""
    if any("ς" in w[:-1] for w in words):
        return False
    letters = "".join(words)
    if sum(c in _RARE_GREEK for c in letters) > len(letters) * 0.05:
        return False
    long_small = [w for w in words if len(w) >= 4 and not w.isupper()]
    accented = sum(any(c in _GREEK_ACCENTED for c in w) for w in long_small)
    return accented >= len(long_small) * 0.5


def _looks_cjk(text: str) -> bool:
    wide = [c for c in text if not c.isascii() and unicodedata.category(c)[0] in "LN"]
    if not wide or not any(_within(c, _CJK_MAIN) for c in wide):
        return False
    ours = sum(_within(c, _CJK) for c in wide)
    # Half-width katakana alone is what single-byte text becomes in cp932.
    half = sum(_within(c, _HALF_WIDTH_KANA) for c in wide)
    words = [w for w in _WORD.findall(text) if any(_within(c, _CJK) for c in w)]
    return ours >= len(wide) * 0.9 and half <= len(wide) * 0.2 and _mixed_share(words) <= _MAX_MIXED


def _most_common_characters(plausible: list[str], readings: dict[str, str]) -> list[str]:
    """Of the East Asian readings, those whose characters are most everyday; the others
    as they were."""
    shares = {e: _everyday_share(readings[e], e) for e in plausible if e in _EVERYDAY}
    if not shares:
        return plausible
    best = max(shares.values())
    return [e for e in plausible if e not in shares or shares[e] >= best - 0.05]


def _everyday_share(text: str, encoding: str) -> float:
    leads, lowest_trail = _EVERYDAY[encoding]
    wide = [c for c in text if not c.isascii()]
    everyday = 0
    for char in wide:
        data = char.encode(encoding)
        everyday += len(data) == 2 and data[0] in leads and data[1] >= lowest_trail
    return everyday / len(wide) if wide else 0.0


def _symbol_share(words: list[str]) -> float:
    """Of ``words``, the share holding a symbol or mark (``±``, ``№``, ``»``) beside their
    letters; an apostrophe (Ukrainian ``Мар’яна``) is a letter's."""
    marked = sum(
        any(not c.isascii() and unicodedata.category(c)[0] in "SNP" and c not in "’ʼ" for c in w)
        for w in words
    )
    return marked / len(words) if words else 1.0


def _mixed_share(words: list[str]) -> float:
    """Of ``words`` (those with characters of a script), the share that also have ASCII
    letters."""
    mixed = sum(any(c.isascii() and c.isalpha() for c in w) for w in words)
    return mixed / len(words) if words else 1.0


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)
