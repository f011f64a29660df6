"""The PDF export: a printable report of a directory's contacts.

Drawn straight on a reportlab canvas, not with platypus tables, which lay a
table out twice and take tens of seconds for ten thousand rows. The report
has a title with the directory's name, the export time and the count, a
table whose header repeats on every page, cells that wrap (a long email
breaks between characters rather than running into the next column), and
"Page n of N" at the foot of each page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import IO, TYPE_CHECKING

from chalicelib.exports.cells import as_text
from chalicelib.exports.pdf_fonts import (
    BODY,
    BOLD,
    TextLayer,
    char_width,
    register_fonts,
    text_width,
)

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from chalicelib.contacts.models import ContactRecord

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4, points
MARGIN = 36.0
SIZE = 8.0
LEADING = 10.5
PADDING = 3.0
# A cell taller than this many lines ends with an ellipsis, so one huge note
# cannot push a row past the page.
MAX_LINES = 30
COLUMNS = (
    ("First name", 0.16),
    ("Last name", 0.17),
    ("Email", 0.27),
    ("Phone", 0.15),
    ("Other fields", 0.25),
)
TOTAL_PAGES_FORM = "crm-total-pages"


def cells_of(contact: ContactRecord) -> list[str]:
    """The report's cells: the core fields, then every extra field as ``key: value`` lines."""
    extra = contact.extra or {}
    details = "\n".join(f"{key}: {as_text(value)}" for key, value in extra.items())
    cells = [
        contact.first_name or "",
        contact.last_name or "",
        contact.email or "",
        contact.phone or "",
        details,
    ]
    return [printable(cell) for cell in cells]


CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # control characters but \n


def printable(text: str) -> str:
    """Text a PDF line can draw: tabs as spaces, line ends as ``\\n``, no other controls."""
    if not CONTROL.search(text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")


def fitted(text: str, size: float, width: float, base: str = BODY) -> str:
    """The text, cut short with an ellipsis if wider than ``width``."""
    if text_width(text, size, base) <= width:
        return text
    keep = len(text)
    while keep > 1 and text_width(text[:keep] + "…", size, base) > width:
        keep = max(1, int(keep * 0.9))
    return text[:keep].rstrip() + "…"


def write_pdf(
    out: IO[bytes],
    title: str,
    exported_at: datetime,
    count: int,
    contacts: Iterable[ContactRecord],
) -> int:
    """Write the report to ``out``; returns the number of contacts written."""
    from reportlab.pdfgen.canvas import Canvas

    register_fonts()
    canvas = Canvas(
        out,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        pageCompression=1,
        initialFontName=BODY,  # not Helvetica, which is Latin-1 only and never embedded
        initialFontSize=SIZE,
    )
    canvas.setTitle(title)
    canvas.setAuthor("Clean CRM")
    report = _Report(canvas, title, exported_at, count)
    written = 0
    for contact in contacts:
        report.add_row(cells_of(contact))
        written += 1
    report.finish()
    return written


class _Report:
    def __init__(self, canvas: Canvas, title: str, exported_at: datetime, count: int) -> None:
        self.canvas = canvas
        self.title = " ".join(printable(title).split())
        self.width = PAGE_WIDTH - 2 * MARGIN
        self.widths = [self.width * share for _, share in COLUMNS]
        self.text = TextLayer(canvas)
        self.rules: list[tuple[float, float, float, float]] = []
        self.page = 0
        self.y = 0.0
        self._start_page()
        self._draw_title(exported_at, count)
        self._draw_header()

    def _end_page(self) -> None:
        # Row rules go out as one path a page: one call instead of one a row.
        self.canvas.setStrokeColorRGB(0.85, 0.85, 0.85)
        self.canvas.lines(self.rules)
        self.rules = []
        self.text.flush()
        self.canvas.showPage()

    def _start_page(self) -> None:
        self.page += 1
        self.y = PAGE_HEIGHT - MARGIN
        self._draw_footer()

    def _draw_title(self, exported_at: datetime, count: int) -> None:
        title = fitted(self.title, 16, self.width, base=BOLD)
        self.text.draw(MARGIN, self.y - 16, title, 16, base=BOLD)
        noun = "contact" if count == 1 else "contacts"
        when = exported_at.strftime("%Y-%m-%d %H:%M UTC")
        self.text.draw(MARGIN, self.y - 32, f"Exported {when} · {count:,} {noun}", 9)
        self.y -= 46

    def _draw_header(self) -> None:
        height = LEADING + 2 * PADDING
        self.canvas.setFillColorRGB(0.9, 0.92, 0.95)
        self.canvas.rect(MARGIN, self.y - height, self.width, height, stroke=0, fill=1)
        self.canvas.setFillColorRGB(0, 0, 0)
        x = MARGIN
        for (label, _), width in zip(COLUMNS, self.widths, strict=True):
            self.text.draw(x + PADDING, self.y - PADDING - SIZE, label, SIZE, base=BOLD)
            x += width
        self.y -= height

    def _draw_footer(self) -> None:
        size = 7.5
        # The directory's name and the page number are drawn apart, the name
        # right-aligned: drawn as one line, a right-to-left name would take
        # the number into its own direction and split "Page 1 of 3".
        name = fitted(self.title, size, self.width * 0.6)
        self.text.draw(MARGIN + self.width - text_width(name, size), MARGIN / 2, name, size)
        label = f"Page {self.page} of "
        x = MARGIN
        self.text.draw(x, MARGIN / 2, label, size)
        # The total is known only at the end: every page shows one form that
        # finish() draws then.
        self.canvas.saveState()
        self.canvas.translate(x + text_width(label, size), MARGIN / 2)
        self.canvas.doForm(TOTAL_PAGES_FORM)
        self.canvas.restoreState()

    def add_row(self, cells: list[str]) -> None:
        lines = [
            wrap(text, width - 2 * PADDING) for text, width in zip(cells, self.widths, strict=True)
        ]
        height = max(len(cell) for cell in lines) * LEADING + 2 * PADDING
        if self.y - height < MARGIN:
            self._end_page()
            self._start_page()
            self._draw_header()
        x = MARGIN
        for cell, width in zip(lines, self.widths, strict=True):
            y = self.y - PADDING - SIZE
            for line in cell:
                if line:
                    self.text.draw(x + PADDING, y, line, SIZE)
                y -= LEADING
            x += width
        self.y -= height
        self.rules.append((MARGIN, self.y, MARGIN + self.width, self.y))

    def finish(self) -> None:
        self._end_page()
        self.canvas.beginForm(TOTAL_PAGES_FORM)
        self.text.draw(0, 0, str(self.page), 7.5)
        self.text.flush()
        self.canvas.endForm()
        self.canvas.save()


def wrap(text: str, width: float) -> list[str]:
    """The text as at most MAX_LINES lines no wider than ``width``.

    Lines break after spaces; a word wider than the column breaks between
    characters (long emails, URLs, and scripts written without spaces).
    """
    if len(text) <= SHORT and "\n" not in text and text_width(text, SIZE) <= width:
        return [text]  # most cells
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if len(lines) > MAX_LINES:
            break
        if len(paragraph) <= SHORT and text_width(paragraph, SIZE) <= width:
            lines.append(paragraph)
        else:
            lines.extend(_break_lines(paragraph, width, MAX_LINES + 1 - len(lines)))
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], lines[MAX_LINES - 1] + " …"]
    return lines or [""]


# Paragraphs up to this long are measured exactly (shaped) before breaking.
SHORT = 120


def _break_lines(paragraph: str, width: float, most: int) -> list[str]:
    """Greedy breaking on each character's own width, stopping after ``most`` lines.

    Characters are measured one by one (unshaped, cached), which is linear in
    the text and never shapes a long text again and again.
    """
    lines: list[str] = []
    start = 0
    used = 0.0
    last_space = -1
    for index, char in enumerate(paragraph):
        advance = char_width(char, SIZE)
        if used + advance > width and index > start:
            cut = last_space + 1 if last_space >= start else index
            lines.append(paragraph[start:cut].rstrip(" "))
            if len(lines) >= most:
                return lines
            start = cut
            used = sum(char_width(c, SIZE) for c in paragraph[start:index])
            last_space = -1
        used += advance
        if char == " ":
            last_space = index
    lines.append(paragraph[start:])
    return lines
