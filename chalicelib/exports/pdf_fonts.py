"""Text in any script on a reportlab canvas: a font per character, shaping, direction.

reportlab's own fonts are Latin-1 only, so the PDF export embeds the TrueType
fonts in ``fonts/`` and picks, for each run of characters, the first font
that has them. Three kinds of run:

- plain (Latin, Greek, Cyrillic, CJK, Hangul): characters map one to one to
  glyphs and are drawn as text;
- right-to-left (Arabic, Hebrew): shaped by HarfBuzz (through reportlab's
  ``shapeStr``), which joins Arabic letters and returns the glyphs in visual
  order; drawn as text, so extractors read the words back;
- reordering scripts (Devanagari): HarfBuzz forms conjuncts and moves marks
  (reph, the short i) away from their characters, so glyph order and text
  order differ and the conjuncts have no Unicode value. The shaped glyphs are
  painted as outlines and the logical text is laid invisibly on top, the way
  scanned PDFs carry their text: it looks right and extracts right.

A character no font has falls back to the body font's empty glyph: the
export goes on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

# This module loads only when a PDF is written, so reportlab may load with it.
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).parent / "fonts"
BODY = "CRM-Sans"
BOLD = "CRM-Sans-Bold"
RunKind = Literal["plain", "rtl", "outline"]


@dataclass(frozen=True)
class FallbackFont:
    name: str
    file: str
    kind: RunKind
    subfont: int = 0


# Tried in order for characters the body font lacks.
FALLBACKS = (
    FallbackFont("CRM-Arabic", "NotoSansArabic-Regular.ttf", "rtl"),
    FallbackFont("CRM-Hebrew", "NotoSansHebrew-Regular.ttf", "rtl"),
    FallbackFont("CRM-Devanagari", "NotoSansDevanagari-Regular.ttf", "outline"),
    FallbackFont("CRM-CJK", "wqy-microhei.ttc", "plain"),
)
KIND_OF = {font.name: font.kind for font in FALLBACKS} | {BODY: "plain", BOLD: "plain"}


class Run(NamedTuple):  # a tuple: made once per cell, so cheap to build
    font: str
    text: str
    kind: RunKind
    # Position in reading order. Runs are drawn in this order at their visual
    # places, so extractors that follow the content stream read words in order.
    logical: int = 0


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register every font with reportlab once per process (they load lazily)."""
    from reportlab.pdfbase import pdfmetrics, ttfonts
    from reportlab.pdfbase.ttfonts import TTFont

    ttfonts.makeToUnicodeCMap = _to_unicode_cmap

    pdfmetrics.registerFont(TTFont(BODY, str(FONT_DIR / "NotoSans-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "NotoSans-Bold.ttf")))
    for font in FALLBACKS:
        pdfmetrics.registerFont(
            TTFont(font.name, str(FONT_DIR / font.file), subfontIndex=font.subfont)
        )


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode map, reading shaped glyphs back as the letters typed.

    A shaped Arabic glyph is known to reportlab by its presentation-form code
    point (U+FEE3 for a medial meem, U+FDF2 for the Allah ligature), so copied
    or extracted text would not match what was typed. Mapped here to the
    compatibility decomposition (U+0645, "الله"); characters beyond U+FFFF
    are written as the UTF-16 surrogate pairs the format requires (reportlab
    writes them as four hex digits).
    """
    entries = []
    for code, value in enumerate(subset):
        char = chr(value)
        if 0xFB1D <= value <= 0xFDFF or 0xFE70 <= value <= 0xFEFF:
            char = unicodedata.normalize("NFKC", char) or char
        entries.append(f"<{code:02X}> <{char.encode('utf-16-be').hex().upper()}>")
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            f"/CIDSystemInfo << /Registry ({fontname}) /Ordering ({fontname}) /Supplement 0 >> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(entries)} beginbfchar",
            *entries,
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


@lru_cache(maxsize=16)
def _glyphs_of(font_name: str) -> dict[int, int]:
    from reportlab.pdfbase import pdfmetrics

    glyphs: dict[int, int] = pdfmetrics.getFont(font_name).face.charToGlyph
    return glyphs


@lru_cache(maxsize=16)
def _ascii_codes_are_chars(font_name: str) -> bool:
    """Whether reportlab encodes printable ASCII in this font as the characters themselves."""
    font = pdfmetrics.getFont(font_name)
    glyphs = _glyphs_of(font_name)
    return bool(getattr(font, "_asciiReadable", False)) and all(
        code in glyphs for code in range(32, 127)
    )


MISSING = "\ufffd"  # what a character no font has becomes: visible, and never an error


@lru_cache(maxsize=16)
def _chars_of(font_name: str) -> frozenset[str]:
    # Without the direction marks, even where the font has a glyph for them:
    # text holding one goes through the bidi algorithm, which drops them.
    return frozenset(map(chr, _glyphs_of(font_name))) - BIDI_CONTROLS


@lru_cache(maxsize=4)
def _fonts_by_char(base: str) -> dict[str, str]:
    """The font that draws each character: ``base`` if it has it, else the first fallback.

    One dict for every character of every font (tens of thousands, a few MB),
    so finding a character's font is one lookup, not one per font.
    """
    fonts = dict.fromkeys(_chars_of(base), base)
    for font in FALLBACKS:
        for char in _chars_of(font.name):
            if char not in fonts:
                # Spaces and invisible controls stay in the base font, as below.
                invisible = unicodedata.category(char) in _BASE_CATEGORIES
                fonts[char] = base if invisible else font.name
    return fonts


# Characters of these categories stay in the base font, which draws them as
# space or nothing: a space or joiner never breaks a run in two.
_BASE_CATEGORIES = ("Zs", "Cc", "Cf")


def _font_for(char: str, base: str) -> str | None:
    font = _fonts_by_char(base).get(char)
    if font is None and unicodedata.category(char) in _BASE_CATEGORIES:
        return base
    return font


def runs_of(text: str, base: str = BODY) -> tuple[Run, ...]:
    """The text cut into runs that one font draws, in visual order (left to right)."""
    if text.isascii() or _chars_of(base).issuperset(text):
        return (Run(base, text, "plain"),)
    if len(text) > CACHE_TEXT_CHARS:
        return _runs_of(text, base)
    return _cached_runs_of(text, base)


# Long texts are measured and drawn uncached: a cache of them would hold
# megabytes and never hit.
CACHE_TEXT_CHARS = 200


@lru_cache(maxsize=4096)
def _cached_runs_of(text: str, base: str) -> tuple[Run, ...]:
    return _runs_of(text, base)


def _runs_of(text: str, base: str) -> tuple[Run, ...]:
    fonts = _fonts_by_char(base)
    if not all(char in fonts for char in text) and any(
        _font_for(char, base) is None and char not in BIDI_CONTROLS for char in text
    ):
        text = "".join(
            MISSING if _font_for(char, base) is None and char not in BIDI_CONTROLS else char
            for char in text
        )
    if not any(
        unicodedata.bidirectional(char) in ("R", "AL") or char in BIDI_CONTROLS for char in text
    ):
        return tuple(_font_runs(text, base, level=0))
    # Right-to-left text: the Unicode bidi algorithm (python-bidi) gives each
    # character its level; runs of one level are reordered for display (rule
    # L2), and each odd-level run is drawn right to left.
    segments = [
        (level, _font_runs("".join(char for char, _ in group), base, level))
        for level, group in groupby(_levels(text), key=itemgetter(1))
    ]
    levels = [level for level, _ in segments]
    order = list(range(len(segments)))
    odd = [level for level in levels if level % 2]
    lowest_odd = min(odd) if odd else 1
    for level in range(max(levels), lowest_odd - 1, -1):
        index = 0
        while index < len(order):
            if levels[order[index]] < level:
                index += 1
                continue
            stop = index
            while stop < len(order) and levels[order[stop]] >= level:
                stop += 1
            order[index:stop] = reversed(order[index:stop])
            index = stop
    logical = {id(run): number for number, run in enumerate(r for _, rs in segments for r in rs)}
    runs: list[Run] = []
    for position in order:
        level, font_runs = segments[position]
        for run in reversed(font_runs) if level % 2 else font_runs:
            runs.append(run._replace(logical=logical[id(run)]))
    return tuple(runs)


# Explicit direction marks (embeddings, overrides, isolates): they order the
# text around them and are never drawn themselves.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


_ISOLATES_AS_EMBEDDINGS = str.maketrans(
    {"\u2066": "\u202a", "\u2067": "\u202b", "\u2068": "\u202a", "\u2069": "\u202c"}
)


def _levels(text: str) -> list[tuple[str, int]]:
    """Each character with its resolved bidi embedding level (explicit controls dropped)."""
    from bidi import algorithm

    # python-bidi's algorithm knows embeddings, not isolates (Unicode 6.3):
    # an isolate is read as the embedding closest to it.
    text = text.translate(_ISOLATES_AS_EMBEDDINGS)
    storage = algorithm.get_empty_storage()
    storage["base_level"] = algorithm.get_base_level(text)
    storage["base_dir"] = ("L", "R")[storage["base_level"]]
    algorithm.get_embedding_levels(text, storage)
    algorithm.explicit_embed_and_overrides(storage, False)
    algorithm.resolve_weak_types(storage, False)
    algorithm.resolve_neutral_types(storage, False)
    algorithm.resolve_implicit_levels(storage, False)
    return [(char["ch"], int(char["level"])) for char in storage["chars"]]


def _font_runs(text: str, base: str, level: int) -> list[Run]:
    """Runs of one font, in logical order, each drawable as it is."""
    runs: list[Run] = []
    current, start = "", 0
    fonts = _fonts_by_char(base)
    for index, char in enumerate(text):
        # Spaces and marks stay with the run they are in.
        font = current if current and (char == " " or unicodedata.combining(char)) else None
        font = font or fonts.get(char) or base
        if font != current:
            if current:
                runs.extend(_runs(current, text[start:index], level))
            current, start = font, index
    runs.extend(_runs(current, text[start:], level))
    return runs


def _runs(font: str, text: str, level: int) -> list[Run]:
    # A space between two scripts is a run of its own, so it is drawn (and
    # extracted) between them rather than inside the right-to-left word.
    word = text.rstrip(" ")
    if word == text or not word:
        return [_run(font, text, level)]
    return [_run(font, word, level), _run(font, text[len(word) :], level)]


def _run(font: str, text: str, level: int) -> Run:
    kind = KIND_OF[font]
    if level % 2 == 0:
        # Arabic digits and punctuation between left-to-right text: as they are.
        return Run(font, text, "plain" if kind == "rtl" else kind)
    if kind == "rtl" and text.strip(" "):
        return Run(font, text, "rtl")  # HarfBuzz shapes it and orders it right to left
    # A neutral (space, bracket, Latin digit) inside right-to-left text: its
    # characters go right to left, brackets mirrored.
    from bidi.algorithm import MIRRORED

    return Run(font, "".join(MIRRORED.get(char, char) for char in reversed(text)), "plain")


# Discretionary ligatures ("dlig") would draw محمد as one glyph with vowel
# marks nobody typed: only the ligatures the script requires, and kerning.
SHAPING_FEATURES = {"kern": True, "liga": True}


def _shaped(text: str, font: str, size: float) -> Any:
    if len(text) > CACHE_TEXT_CHARS:
        return _shape(text, font, size)
    return _cached_shape(text, font, size)


@lru_cache(maxsize=4096)
def _cached_shape(text: str, font: str, size: float) -> Any:
    return _shape(text, font, size)


def _shape(text: str, font: str, size: float) -> Any:
    from reportlab.lib.abag import ABag
    from reportlab.pdfbase.ttfonts import shapeFragWord

    word = [stringWidth(text, font, size), (ABag(fontName=font, fontSize=size), text)]
    return shapeFragWord(word, features=SHAPING_FEATURES, force=True)[1][1]


def _run_width(run: Run, size: float) -> float:
    if len(run.text) > CACHE_TEXT_CHARS:
        return _measure_run(run, size)
    return _cached_run_width(run, size)


@lru_cache(maxsize=4096)
def _cached_run_width(run: Run, size: float) -> float:
    return _measure_run(run, size)


def _measure_run(run: Run, size: float) -> float:
    if run.kind == "plain":
        return float(stringWidth(run.text, run.font, size))
    shaped = _shaped(run.text, run.font, size)
    data = getattr(shaped, "__shapeData__", None)
    if data is None:
        return float(stringWidth(run.text, run.font, size))
    return float(sum(glyph.x_advance for glyph in data) * size / 1000)


@lru_cache(maxsize=8192)
def char_width(char: str, size: float, base: str = BODY) -> float:
    """One character's width alone, in the font that draws it (for line breaking)."""
    return float(stringWidth(char, _font_for(char, base) or base, size))


def text_width(text: str, size: float, base: str = BODY) -> float:
    """The width of the text in points, as :meth:`TextLayer.draw` draws it."""
    if text.isascii():  # most cells: one run in the base font
        return float(stringWidth(text, base, size))
    return sum(_run_width(run, size) for run in runs_of(text, base))


class TextLayer:
    """Text for one page, gathered in a single PDF text object (one per cell is slow).

    Call :meth:`flush` before the page ends; shapes drawn on the canvas
    meanwhile end up under the text.
    """

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self._text = canvas.beginText()
        self._font: tuple[str, float] | None = None

    def draw(self, x: float, y: float, text: str, size: float, base: str = BODY) -> None:
        """Draw one line of text with its left end at (x, y)."""
        if text.isascii():  # most cells (emails, phones): one run, no shaping
            self._set_font(base, size)
            if text.isprintable() and _ascii_codes_are_chars(base):
                self._ascii_out(x, y, text, base)
            else:
                self._plain_out(x, y, text, base)
            return
        runs = runs_of(text, base)
        if len(runs) == 1:
            placed = [(runs[0], x)]
        else:
            placed = []
            for run in runs:
                placed.append((run, x))
                x += _run_width(run, size)
            placed.sort(key=lambda item: item[0].logical)
        for run, x in placed:
            if run.kind == "outline":
                self._draw_outlined(x, y, run, size)
            elif run.kind == "plain":
                self._set_font(run.font, size)
                self._plain_out(x, y, run.text, run.font)
            else:
                # Always restate the font: reportlab 5.1 fails (IndexError in
                # setRise) when a shaped text starting with a raised mark
                # continues the current font subset.
                self._font = None
                self._set_font(run.font, size)
                self._text.setTextOrigin(x, y)
                # _textOut: textOut without re-measuring the text to move a
                # cursor that every run sets anew anyway.
                self._text._textOut(_shaped(run.text, run.font, size))

    def flush(self) -> None:
        self.canvas.drawText(self._text)
        self._text = self.canvas.beginText()
        self._font = None

    def _ascii_out(self, x: float, y: float, text: str, font_name: str) -> None:
        """Printable ASCII: in reportlab's TrueType subsets (``asciiReadable``,
        its default) characters 32 to 126 are their own codes in subset 0, so
        the bytes to show are the text itself, and no character is looked up."""
        self._show(x, y, font_name, ((0, text),))

    def _plain_out(self, x: float, y: float, text: str, font_name: str) -> None:
        """Text one TrueType font draws character by character, in its subsets' codes.

        reportlab's ``splitString`` gives the codes (and adds new characters
        to the document's subsets); the operators are written here rather
        than by ``textOut``, which redoes per text what a line needs once.
        """
        doc = self.canvas._doc
        self._show(x, y, font_name, pdfmetrics.getFont(font_name).splitString(text, doc))

    def _show(
        self, x: float, y: float, font_name: str, pieces: Iterable[tuple[int, str | bytes]]
    ) -> None:
        # What setTextOrigin and _textOut write: a text matrix, then each piece
        # with a font change where its subset differs from the last one's.
        text_object = self._text
        code = text_object._code
        code.append(f"1 0 0 1 {fp_str(x, y)} Tm")
        for subset, data in pieces:
            if subset != text_object._curSubset:
                font = pdfmetrics.getFont(font_name)
                doc = self.canvas._doc
                font.splitString("", doc)  # makes the document's subsets of the font, if new
                size, leading = fp_str(text_object._fontsize), fp_str(text_object._leading)
                code.append(f"{font.getSubsetInternalName(subset, doc)} {size} Tf {leading} TL")
                text_object._curSubset = subset
            code.append(f"({escapePDF(data)}) Tj")
        text_object._x0 = text_object._x = x
        text_object._y0 = text_object._y = y

    def _set_font(self, font: str, size: float) -> None:
        if self._font != (font, size):
            self._text.setFont(font, size)
            self._font = (font, size)

    def _draw_outlined(self, x: float, y: float, run: Run, size: float) -> None:
        """Paint the shaped glyphs as shapes and lay the real text invisibly over them."""
        glyphs, upem = _shaped_glyphs(run.text, run.font)
        scale = size / upem
        canvas = self.canvas
        canvas.saveState()
        canvas.transform(scale, 0, 0, scale, x, y)  # font units from here
        # One move per painted glyph: from the last glyph's origin to this one's.
        moved_x = moved_y = 0
        pen = 0
        for glyph, x_offset, y_offset, x_advance in glyphs:
            form = _glyph_form(canvas, run.font, glyph)
            if form:
                canvas.translate(pen + x_offset - moved_x, y_offset - moved_y)
                canvas.doForm(form)
                moved_x, moved_y = pen + x_offset, y_offset
            pen += x_advance
        canvas.restoreState()
        pen_x = x + sum(glyph[3] for glyph in glyphs) * scale
        # Invisible (render mode 3) and squeezed to the painted width, so
        # selecting and extracting give the characters as typed.
        self._set_font(run.font, size)
        natural = canvas.stringWidth(run.text, run.font, size)
        self._text.setTextOrigin(x, y)
        self._text.setTextRenderMode(3)
        if natural > 0:
            self._text.setHorizScale(100 * (pen_x - x) / natural)
        self._text.textOut(run.text)
        self._text.setHorizScale(100)
        self._text.setTextRenderMode(0)


@lru_cache(maxsize=4096)
def _shaped_glyphs(text: str, font_name: str) -> tuple[tuple[tuple[int, int, int, int], ...], int]:
    """HarfBuzz's glyphs for the text: (glyph, x offset, y offset, advance) in font units."""
    import uharfbuzz

    font = _harfbuzz_font(font_name)
    buffer = uharfbuzz.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    uharfbuzz.shape(font, buffer, {})
    glyphs = tuple(
        (info.codepoint, position.x_offset, position.y_offset, position.x_advance)
        for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True)
    )
    return glyphs, int(font.face.upem)


@lru_cache(maxsize=16)
def _harfbuzz_font(font_name: str) -> Any:
    import uharfbuzz

    file = next(font.file for font in FALLBACKS if font.name == font_name)
    face = uharfbuzz.Face(uharfbuzz.Blob.from_file_path(str(FONT_DIR / file)))
    return uharfbuzz.Font(face)


def _glyph_form(canvas: Canvas, font_name: str, glyph: int) -> str | None:
    """A form XObject drawing the glyph's outline in font units, made once per document."""
    forms: dict[tuple[str, int], str | None] = canvas.__dict__.setdefault("_crm_glyph_forms", {})
    key = (font_name, glyph)
    if key not in forms:
        pen = _PathPen(canvas)
        _harfbuzz_font(font_name).draw_glyph_with_pen(glyph, pen)
        name = f"g-{font_name}-{glyph}"
        if pen.empty:
            forms[key] = None
        else:
            # In font units; glyphs reach left of and above their origin.
            canvas.beginForm(name, lowerx=-2000, lowery=-2000, upperx=4000, uppery=4000)
            canvas.setFillColorRGB(0, 0, 0)
            canvas.drawPath(pen.path, stroke=0, fill=1, fillMode=1)
            canvas.endForm()
            forms[key] = name
    return forms[key]


class _PathPen:
    """Receives a glyph's outline from HarfBuzz as a reportlab path (quadratics made cubic)."""

    def __init__(self, canvas: Canvas) -> None:
        self.path = canvas.beginPath()
        self.empty = True
        self._last = (0.0, 0.0)

    def moveTo(self, point: tuple[float, float]) -> None:
        self.empty = False
        self.path.moveTo(*point)
        self._last = point

    def lineTo(self, point: tuple[float, float]) -> None:
        self.path.lineTo(*point)
        self._last = point

    def curveTo(self, *points: tuple[float, float]) -> None:
        (x1, y1), (x2, y2), (x3, y3) = points
        self.path.curveTo(x1, y1, x2, y2, x3, y3)
        self._last = points[-1]

    def qCurveTo(self, *points: tuple[float, float]) -> None:
        (cx, cy), (x, y) = points
        x0, y0 = self._last
        self.path.curveTo(
            x0 + 2 / 3 * (cx - x0),
            y0 + 2 / 3 * (cy - y0),
            x + 2 / 3 * (cx - x),
            y + 2 / 3 * (cy - y),
            x,
            y,
        )
        self._last = (x, y)

    def closePath(self) -> None:
        self.path.close()
