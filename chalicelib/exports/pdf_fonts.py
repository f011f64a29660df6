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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

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


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register every font with reportlab once per process (they load lazily)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(BODY, str(FONT_DIR / "NotoSans-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "NotoSans-Bold.ttf")))
    for font in FALLBACKS:
        pdfmetrics.registerFont(
            TTFont(font.name, str(FONT_DIR / font.file), subfontIndex=font.subfont)
        )


@lru_cache(maxsize=16)
def _glyphs_of(font_name: str) -> dict[int, int]:
    from reportlab.pdfbase import pdfmetrics

    glyphs: dict[int, int] = pdfmetrics.getFont(font_name).face.charToGlyph
    return glyphs


MISSING = "\ufffd"  # what a character no font has becomes: visible, and never an error


@lru_cache(maxsize=16)
def _chars_of(font_name: str) -> frozenset[str]:
    return frozenset(map(chr, _glyphs_of(font_name)))


def _font_for(char: str, base: str) -> str | None:
    code = ord(char)
    if code in _glyphs_of(base) or unicodedata.category(char) in ("Zs", "Cc", "Cf"):
        return base
    for font in FALLBACKS:
        if code in _glyphs_of(font.name):
            return font.name
    return None


@lru_cache(maxsize=4096)
def runs_of(text: str, base: str = BODY) -> tuple[Run, ...]:
    """The text cut into runs that one font draws, in visual order."""
    if text.isascii() or _chars_of(base).issuperset(text):
        return (Run(base, text, "plain"),)
    if any(_font_for(char, base) is None for char in text):
        text = "".join(MISSING if _font_for(char, base) is None else char for char in text)
    runs: list[Run] = []
    current, start = "", 0
    for index, char in enumerate(text):
        # Spaces and marks stay with the run they are in.
        font = current if current and (char == " " or unicodedata.combining(char)) else None
        font = font or _font_for(char, base) or base
        if font != current:
            if current:
                runs.append(Run(current, text[start:index], KIND_OF[current]))
            current, start = font, index
    runs.append(Run(current, text[start:], KIND_OF[current]))
    if any(run.kind == "rtl" for run in runs) and _starts_right_to_left(text):
        runs.reverse()
    return tuple(runs)


def _starts_right_to_left(text: str) -> bool:
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("L", "R", "AL"):
            return direction != "L"
    return False


@lru_cache(maxsize=4096)
def _shaped(text: str, font: str, size: float) -> Any:
    from reportlab.pdfbase.ttfonts import shapeStr

    return shapeStr(text, font, size)


@lru_cache(maxsize=4096)
def _run_width(run: Run, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if run.kind == "plain":
        return float(stringWidth(run.text, run.font, size))
    shaped = _shaped(run.text, run.font, size)
    data = getattr(shaped, "__shapeData__", None)
    if data is None:
        return float(stringWidth(run.text, run.font, size))
    return float(sum(glyph.x_advance for glyph in data) * size / 1000)


@lru_cache(maxsize=4096)
def text_width(text: str, size: float, base: str = BODY) -> float:
    """The width of the text in points, as :func:`draw_text` draws it."""
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
        for run in runs_of(text, base):
            if run.kind == "outline":
                self._draw_outlined(x, y, run, size)
            else:
                self._set_font(run.font, size)
                self._text.setTextOrigin(x, y)
                self._text.textOut(
                    run.text if run.kind == "plain" else _shaped(run.text, run.font, size)
                )
            x += _run_width(run, size)

    def flush(self) -> None:
        self.canvas.drawText(self._text)
        self._text = self.canvas.beginText()
        self._font = None

    def _set_font(self, font: str, size: float) -> None:
        if self._font != (font, size):
            self._text.setFont(font, size)
            self._font = (font, size)

    def _draw_outlined(self, x: float, y: float, run: Run, size: float) -> None:
        """Paint the shaped glyphs as shapes and lay the real text invisibly over them."""
        import uharfbuzz

        font = _harfbuzz_font(run.font)
        buffer = uharfbuzz.Buffer()
        buffer.add_str(run.text)
        buffer.guess_segment_properties()
        uharfbuzz.shape(font, buffer, {})
        scale = size / font.face.upem
        canvas = self.canvas
        pen_x = x
        for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
            form = _glyph_form(canvas, run.font, info.codepoint)
            if form:
                canvas.saveState()
                canvas.transform(
                    scale,
                    0,
                    0,
                    scale,
                    pen_x + position.x_offset * scale,
                    y + position.y_offset * scale,
                )
                canvas.doForm(form)
                canvas.restoreState()
            pen_x += position.x_advance * scale
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
