"""Export writers: time and peak memory against a bare writer pass over the same rows.

The contacts come from a generator of ``ContactRecord`` items (what the
DynamoDB query yields), built one at a time, so neither side holds the
directory in memory and DynamoDB's speed is not what is measured. The export
reads the directory once, spooling rows to disk while it learns the columns,
then assembles the file; the bare pass writes each generated contact's cells
once with ``csv.writer`` / openpyxl write-only and nothing else.
Each measurement runs in a fresh process; memory is how much the run grows
the process's peak RSS, at two sizes, to show it is flat.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
PDF_ROWS = int(os.environ.get("BENCH_PDF_ROWS", "10000"))
TARGET_RATIO = 1.5
TARGET_PDF_SECONDS = 1.5
# One name per script the PDF must draw (C12's), cycled through the rows.
SCRIPTS = [
    ("Željko", "Šćepanović"),
    ("Дмитрий", "Иванов"),
    ("Ελένη", "Παπαδοπούλου"),
    ("小明", "王"),
    ("太郎", "山田"),
    ("민준", "김"),
    ("محمد", "عبد الله"),
    ("שרה", "כהן"),
    ("अनन्या", "शर्मा"),
    ("Chris 🚀", "O’Connor"),
]


def contacts(count: int) -> Iterator[Any]:
    from chalicelib.contacts.models import ContactRecord

    now = datetime.now(UTC)
    for n in range(count):
        first, last = SCRIPTS[n % len(SCRIPTS)]
        yield ContactRecord(
            "owner#directory",
            f"e#person{n}@example.com",
            contact_id=f"{n:026d}",
            directory_id="directory",
            first_name=f"{first}{n}",
            last_name=last,
            email=f"person{n}@example.com",
            phone=f"+1202555{n % 10000:04d}",
            extra={"company": f"Company {n % 500}", "city": "São Paulo", "zip": f"{n % 99999:05d}"},
            created_at=now,
            updated_at=now,
        )


def _cells(contact: Any) -> list[str]:
    extra = contact.extra
    return [
        contact.first_name,
        contact.last_name,
        contact.email,
        contact.phone,
        extra["company"],
        extra["city"],
        extra["zip"],
    ]


def bare(kind: str, count: int, out: Path) -> None:
    if kind == "pdf":
        # No bare PDF writer to compare with: this is the part of the PDF's
        # time spent making the contacts and their cells, which any writer pays.
        from chalicelib.exports.pdf_report import cells_of

        for contact in contacts(count):
            cells_of(contact)
        out.write_bytes(b"")
        return
    if kind == "csv":
        import csv

        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            for contact in contacts(count):
                writer.writerow(_cells(contact))
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for contact in contacts(count):
        sheet.append(_cells(contact))
    workbook.save(out)


def ours(kind: str, count: int, out: Path) -> None:
    if kind == "pdf":
        from chalicelib.exports.pdf_report import write_pdf

        with out.open("wb") as handle:
            write_pdf(handle, "Benchmark — every script", datetime.now(UTC), count, contacts(count))
        return
    from chalicelib.exports.spreadsheets import write_csv, write_xlsx

    writer = write_csv if kind == "csv" else write_xlsx
    with out.open("wb") as handle:
        writer(handle, contacts(count))


def measure_one(kind: str, side: str, count: int) -> dict[str, Any]:
    # Load the libraries first so memory growth is the run's, not the imports'.
    import openpyxl  # noqa: F401

    from chalicelib.exports import pdf_report, spreadsheets  # noqa: F401
    from chalicelib.exports.pdf_fonts import register_fonts

    register_fonts()
    # The run's own peak: RSS sampled while it runs, over the RSS before it
    # (the process's lifetime peak may be from loading the libraries).
    before = _current_rss_kb()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _current_rss_kb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"out.{kind}"
        start, cpu_start = time.perf_counter(), time.process_time()
        (bare if side == "bare" else ours)(kind, count, out)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        size = out.stat().st_size
    done.set()
    sampler.join()
    grown = max(peak[0], _current_rss_kb()) - before
    return {"seconds": seconds, "cpu": cpu, "grown_mb": grown / 1024, "bytes": size}


def _current_rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _child(kind: str, side: str, count: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.exports", kind, side, str(count)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def run() -> None:
    print(f"\nExports ({ROWS:,} contacts to CSV and XLSX, {PDF_ROWS:,} to PDF in every script)")
    for kind in ("csv", "xlsx"):
        base = _child(kind, "bare", ROWS)
        mine = _child(kind, "ours", ROWS)
        half = _child(kind, "ours", ROWS // 2)
        ratio = mine["seconds"] / base["seconds"]
        cpu_ratio = mine["cpu"] / base["cpu"]
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        print(
            f"  {kind}: {mine['seconds']:.2f} s vs bare {base['seconds']:.2f} s = {ratio:.2f}x "
            f"(CPU {mine['cpu']:.2f} vs {base['cpu']:.2f} s = {cpu_ratio:.2f}x) "
            f"(target ≤{TARGET_RATIO}x: {verdict}); peak RSS growth {half['grown_mb']:.1f} MB "
            f"at {ROWS // 2:,}, {mine['grown_mb']:.1f} MB at {ROWS:,} "
            f"(bare {base['grown_mb']:.1f} MB); {mine['bytes'] / 1e6:.1f} MB file"
        )
    pdf = _child("pdf", "ours", PDF_ROWS)
    small = _child("pdf", "ours", PDF_ROWS // 2)
    records = _child("pdf", "bare", PDF_ROWS)
    verdict = "met" if pdf["seconds"] <= TARGET_PDF_SECONDS else "MISSED"
    print(
        f"  pdf: {pdf['seconds']:.2f} s (CPU {pdf['cpu']:.2f} s) for {PDF_ROWS:,} rows "
        f"(target ≤{TARGET_PDF_SECONDS} s: {verdict}), of which {records['seconds']:.2f} s "
        f"making the contact records and cells; {small['seconds']:.2f} s for "
        f"{PDF_ROWS // 2:,}; peak RSS growth {small['grown_mb']:.1f} / {pdf['grown_mb']:.1f} MB; "
        f"{pdf['bytes'] / 1e6:.1f} MB file"
    )


if __name__ == "__main__":
    kind_arg, side_arg, count_arg = sys.argv[1:4]
    print(json.dumps(measure_one(kind_arg, side_arg, int(count_arg))))
