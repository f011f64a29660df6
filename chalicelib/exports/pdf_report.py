"""The PDF export: a printable report of a directory's contacts.

Drawn straight on a reportlab canvas, not with platypus tables, which lay a
table out twice and take tens of seconds for ten thousand rows. The report
has a title with the directory's name, the export time and the count, a
table whose header repeats on every page, cells that wrap (a long email
breaks between characters rather than running into the next column), and
"Page n of N" at the foot of each page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import IO, TYPE_CHECKING

from chalicelib.exports.cells import as_text
from chalicelib.exports.pdf_fonts import BODY, BOLD, TextLayer, register_fonts, text_width

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
    return [
        contact.first_name or "",
        contact.last_name or "",
        contact.email or "",
        contact.phone or "",
        details,
    ]


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
        self.title = title
        self.width = PAGE_WIDTH - 2 * MARGIN
        self.widths = [self.width * share for _, share in COLUMNS]
        self.text = TextLayer(canvas)
        self.page = 0
        self.y = 0.0
        self._start_page()
        self._draw_title(exported_at, count)
        self._draw_header()

    def _start_page(self) -> None:
        self.page += 1
        self.y = PAGE_HEIGHT - MARGIN
        self._draw_footer()

    def _draw_title(self, exported_at: datetime, count: int) -> None:
        self.text.draw(MARGIN, self.y - 16, self.title, 16, base=BOLD)
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
        label = f"{self.title} · Page {self.page} of "
        size = 7.5
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
            self.text.flush()
            self.canvas.showPage()
            self._start_page()
            self._draw_header()
        x = MARGIN
        for cell, width in zip(lines, self.widths, strict=True):
            y = self.y - PADDING - SIZE
            for line in cell:
                self.text.draw(x + PADDING, y, line, SIZE)
                y -= LEADING
            x += width
        self.y -= height
        self.canvas.setStrokeColorRGB(0.85, 0.85, 0.85)
        self.canvas.line(MARGIN, self.y, MARGIN + self.width, self.y)

    def finish(self) -> None:
        self.text.flush()
        self.canvas.showPage()
        self.canvas.beginForm(TOTAL_PAGES_FORM)
        self.text.draw(0, 0, str(self.page), 7.5)
        self.text.flush()
        self.canvas.endForm()
        self.canvas.save()


def wrap(text: str, width: float) -> list[str]:
    """The text as lines no wider than ``width``; words too long break between characters."""
    lines: list[str] = []
    for paragraph in text.split("\n") or [""]:
        if text_width(paragraph, SIZE) <= width:
            lines.append(paragraph)
        else:
            lines.extend(_wrap_paragraph(paragraph, width))
        if len(lines) >= MAX_LINES:
            return [*lines[: MAX_LINES - 1], lines[MAX_LINES - 1] + " …"]
    return lines or [""]


def _wrap_paragraph(paragraph: str, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in paragraph.split(" "):
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, SIZE) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        # The word alone is too wide: cut it where it stops fitting.
        while text_width(word, SIZE) > width:
            cut = _fitting_prefix(word, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    lines.append(line)
    return lines


def _fitting_prefix(word: str, width: float) -> int:
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(word[:middle], SIZE) <= width:
            low = middle
        else:
            high = middle - 1
    return low
