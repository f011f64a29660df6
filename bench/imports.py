"""Import pipeline: rows per second, peak memory and DynamoDB writes per 1,000 rows.

Each measurement runs in a fresh process on moto, with a bare pass over the
same file in the same process for comparison (``csv.reader`` for CSV,
openpyxl read-only for XLSX). The contacts table's batch reads and writes
are answered by a stub that only counts them: moto's own speed would
otherwise be what is measured, and the requests made are what matters. The
file's download streams from the local copy, as S3 streams it: moto would
hold a whole copy of it in this process.
Memory is the most the process's RSS rises above where it stood when the
run began, sampled every 10 ms while it runs (the process also holds moto,
and its earlier peak, uploading the file to moto, would hide the run's),
at two file sizes, to show it is flat.

Speeds are judged on CPU time (``time.process_time``): the targets are for
one core, and on a shared machine wall-clock time also counts the time other
processes held the core; wall-clock figures are printed beside them. Even
CPU time varies by a fifth from run to run here, so the full-size file is run
three times and each side of a figure is its best run (every run's own ratio
is printed too). The
generated phone column repeats every 10,000 rows, so the phone cache answers
most rows: a CSV run with every phone distinct shows the rate without that
help. A separate run with timers around each stage (which cost about a
microsecond a row themselves) shows where a row's time goes.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
# Full-size runs per kind: the machine is shared, so each side of a ratio is
# its best (least disturbed) run of these, and every run's own ratio is shown.
REPEATS = int(os.environ.get("BENCH_IMPORT_REPEATS", "3"))
TARGET_CSV_ROWS_PER_S = 15_000
TARGET_XLSX_RATIO = 0.7
TARGET_WRITES_PER_1000 = 42
TARGET_PEAK_MB = 150
HEADER = ["email", "first_name", "last_name", "phone", "company", "city"]
_WRITES = {"BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


def make_rows(count: int, distinct_phones: bool = False) -> Iterator[list[Any]]:
    """Rows generated one at a time, so the file costs the measuring process no memory."""
    rng = random.Random(7)
    cities = ["Lisboa", "München", "São Paulo", "Zürich", "Kraków", "Paris"]
    for n in range(count):
        phone = (
            f"+1 212-{200 + (n // 10000) % 800:03d}-{n % 10000:04d}"  # 8 M distinct numbers
            if distinct_phones
            else f"+1 202-555-{n % 10000:04d}"
        )
        yield [
            f"person{n}@example.com",
            f"First{n}",
            f"Last{n}",
            phone,
            f"Company {rng.randint(1, 500)}",
            rng.choice(cities),
        ]


def write_file(kind: str, count: int, path: Path, distinct_phones: bool = False) -> None:
    """``csv``; ``xlsx`` as Excel saves it (shared strings, a ``<dimension>``); or
    ``xlsx-inline`` as openpyxl and many exporters write it (inline strings, no dimension)."""
    rows = make_rows(count, distinct_phones)
    if kind == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(rows)
    elif kind == "xlsx":
        _write_excel_style(path, count, rows)
    else:
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("Contacts")
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        workbook.save(path)


_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    ),
}
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _write_excel_style(path: Path, count: int, rows: Iterator[list[Any]]) -> None:
    """A workbook laid out as Excel saves one: text in a shared string table,
    cells referring to it by number, and the sheet's ``<dimension>``."""
    import zipfile
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}
    last_column = chr(ord("A") + len(HEADER) - 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in _PARTS.items():
            archive.writestr(name, xml)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<worksheet xmlns="{_MAIN_NS}"><dimension ref="A1:{last_column}{count + 1}"/>'
                "<sheetData>".encode()
            )
            for number, row in enumerate(_with_header(rows), start=1):
                cells = "".join(
                    f'<c r="{chr(ord("A") + i)}{number}" t="s">'
                    f"<v>{strings.setdefault(str(text), len(strings))}</v></c>"
                    for i, text in enumerate(row)
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w") as table:
            table.write(f'<sst xmlns="{_MAIN_NS}" uniqueCount="{len(strings)}">'.encode())
            for text in strings:
                table.write(f"<si><t>{escape(text)}</t></si>".encode())
            table.write(b"</sst>")


def _with_header(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    yield HEADER
    yield from rows


def bare_pass(kind: str, path: Path) -> tuple[float, float]:
    """Seconds (wall clock, CPU) for the plainest full read of the file."""
    started, cpu_started = time.perf_counter(), time.process_time()
    if kind == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            for _ in csv.reader(handle):
                pass
    else:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for _ in workbook.worksheets[0].iter_rows(values_only=True):
            pass
        workbook.close()
    return time.perf_counter() - started, time.process_time() - cpu_started


def reader_pass(path: Path) -> tuple[float, float]:
    """CPU seconds for the import's own reading of a workbook and nothing else, and for
    the bare openpyxl pass, both under the cycle-collector settings the import runs with.

    The pipeline does not use openpyxl's row iterator (see
    :mod:`chalicelib.imports.sheet_reader`), so beating the bare openpyxl pass
    says the reading is faster; these passes say what the rest of the
    pipeline costs on top of its reading, and how much of the gain is the
    collector's.
    """
    from chalicelib.imports.pipeline import _collector_for_bulk_work
    from chalicelib.imports.workbooks import open_sheet

    with _collector_for_bulk_work():
        cpu_started = time.process_time()
        with path.open("rb") as stream:
            _, rows = open_sheet(stream, lambda row: True)
            for _ in rows:
                pass
        reading = time.process_time() - cpu_started
        openpyxl_reading = bare_pass("xlsx", path)[1]
    return reading, openpyxl_reading


def _stub_contact_batches(counts: Counter[str]) -> None:
    """Count every DynamoDB call; answer the contacts table's batches without storing."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name != "dynamodb":
            return original(self, operation, kwargs)
        counts[operation] += 1
        if operation == "BatchWriteItem":
            return {"UnprocessedItems": {}}
        if operation == "BatchGetItem":
            return {
                "Responses": {table: [] for table in kwargs["RequestItems"]},
                "UnprocessedKeys": {},
            }
        return original(self, operation, kwargs)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]


# Stages timed in the stage run: (label, module, attribute, object holding it).
STAGES = [
    ("parse row", "chalicelib.imports.pipeline", "parse_row", None),
    ("email", "chalicelib.contacts.normalize", "clean_email", None),
    ("phone", "chalicelib.contacts.normalize", "clean_phone", None),
    ("plan and items", "chalicelib.imports.writer", "_plan", "ChunkWriter"),
    ("new ids", "chalicelib.imports.writer", "new_ids", None),
    ("DynamoDB reads", "chalicelib.imports.writer", "_existing", "ChunkWriter"),
    ("DynamoDB writes", "chalicelib.imports.writer", "_put_all", "ChunkWriter"),
    ("DynamoDB writes", "chalicelib.imports.pipeline", "_save_progress", None),
]
# Parts of an outer stage, subtracted from it so no time counts twice.
INSIDE = {
    "email": "parse row",
    "phone": "parse row",
    "new ids": "plan and items",
    "DynamoDB reads": "plan and items",
}


def _stream_the_file_as_s3_does(path: Path, key: str) -> None:
    """The import's GET of its file answered from the local file, read in chunks as S3's
    response body is. moto builds every response whole in this process: a copy of the
    file, and more, that would count as the import's memory and grow with the file."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def streaming(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation == "GetObject" and kwargs.get("Key") == key:
            return {"Body": path.open("rb"), "ETag": '"bench"'}
        return original(self, operation, kwargs)

    BaseClient._make_api_call = streaming  # type: ignore[method-assign]


def _time_stages() -> Callable[[], dict[str, float]]:
    """Wrap each stage in a CPU timer; returns what gives the seconds per stage."""
    import importlib

    spent: dict[str, float] = dict.fromkeys([label for label, *_ in STAGES] + ["GC"], 0.0)
    for label, module_name, name, holder in STAGES:
        owner: Any = importlib.import_module(module_name)
        if holder:
            owner = getattr(owner, holder)
        original = getattr(owner, name)

        def timed(*args: Any, _f: Any = original, _label: str = label, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return _f(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - started

        setattr(owner, name, timed)
    started: list[float] = []

    def collector(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[:] = [time.process_time()]
        elif started:
            spent["GC"] += time.process_time() - started[0]

    gc.callbacks.append(collector)

    def result() -> dict[str, float]:
        gc.callbacks.remove(collector)
        own = dict(spent)
        for part, outer in INSIDE.items():
            own[outer] -= spent[part]
        return own

    return result


def _rss_mb() -> float:
    """The process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _RssPeak:
    """The highest RSS seen while the block runs, sampled in a thread."""

    def __enter__(self) -> _RssPeak:
        self.start = self.peak = _rss_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def measure_one(
    kind: str, count: int, *, stages: bool = False, distinct_phones: bool = False
) -> dict[str, Any]:
    """One pipeline run over a generated file; returns its figures."""

    from bench.environment import mocked_app

    with tempfile.TemporaryDirectory() as folder, mocked_app():
        path = Path(folder) / f"contacts.{kind.split('-')[0]}"
        write_file(kind, count, path, distinct_phones)
        from chalicelib.config import settings
        from chalicelib.db import utcnow
        from chalicelib.directories.models import DirectoryRecord
        from chalicelib.imports.jobs import _new_job
        from chalicelib.imports.pipeline import run_import

        now = utcnow()
        directory = "01BENCHDIRECTORY0000000000"
        DirectoryRecord("owner", directory, name="bench", created_at=now, updated_at=now).save()
        key = f"imports/{directory}/{path.name}"
        # Not uploaded: the GET is served from the local file (see below).
        job = _new_job(
            "owner",
            "01BENCHIMPORT0000000000000",
            directory,
            path.name,
            settings().files_bucket,
            key,
        )
        counts: Counter[str] = Counter()
        _stub_contact_batches(counts)
        _stream_the_file_as_s3_does(path, key)
        stage_seconds = _time_stages() if stages else None
        with _RssPeak() as memory:
            started, cpu_started = time.perf_counter(), time.process_time()
            run_import(job, lambda: 900_000)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        job.refresh()
        # The bare passes after the run: before it, what they leave in the heap
        # (openpyxl's string table) would be the baseline the run's memory is
        # measured from.
        bare, bare_cpu = bare_pass(kind, path)
        reader_cpu, tuned_bare_cpu = reader_pass(path) if kind != "csv" else (None, None)
    writes = sum(n for op, n in counts.items() if op in _WRITES)
    result = {
        "kind": kind,
        "rows": count,
        "status": job.status,
        "created": int(job.created),
        "seconds": elapsed,
        "bare_seconds": bare,
        "cpu_seconds": cpu,
        "bare_cpu_seconds": bare_cpu,
        "reader_cpu_seconds": reader_cpu,
        "tuned_bare_cpu_seconds": tuned_bare_cpu,
        "rss_growth_mb": max(0.0, memory.peak - memory.start),
        "peak_rss_mb": memory.peak,
        "writes_per_1000": writes * 1000 / count,
        "requests": dict(counts),
    }
    if stage_seconds is not None:
        per_row = {label: t * 1e6 / count for label, t in stage_seconds().items()}
        collector = per_row.pop("GC")  # already inside the stage each collection interrupted
        per_row["reading and the rest"] = cpu * 1e6 / count - sum(per_row.values())
        per_row["(of all these, the cycle collector)"] = collector
        result["stages_us_per_row"] = per_row
    return result


def _run_child(kind: str, count: int, *options: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.imports", kind, str(count), *options],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs' figures, each time its least disturbed (lowest) one; memory the median."""
    best = dict(runs[0])
    for key in (
        "seconds",
        "bare_seconds",
        "cpu_seconds",
        "bare_cpu_seconds",
        "reader_cpu_seconds",
        "tuned_bare_cpu_seconds",
    ):
        values = [r[key] for r in runs if r.get(key) is not None]
        best[key] = min(values) if values else None
    for key in ("rss_growth_mb", "peak_rss_mb"):
        best[key] = sorted(r[key] for r in runs)[len(runs) // 2]
    return best


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s"


def run() -> None:
    """Print the import figures for CSV and both kinds of XLSX at two sizes, and where
    the time goes."""
    for kind in ("csv", "xlsx", "xlsx-inline"):
        small = _run_child(kind, ROWS // 2)
        runs = [_run_child(kind, ROWS) for _ in range(REPEATS)]
        full = _best_of(runs)
        rows = full["rows"]
        cpu_rate = rows / full["cpu_seconds"]
        cpu_ratio = full["bare_cpu_seconds"] / full["cpu_seconds"]
        wall_ratio = full["bare_seconds"] / full["seconds"]
        if kind == "csv":
            speed_ok = cpu_rate >= TARGET_CSV_ROWS_PER_S
            target = f"target >= {TARGET_CSV_ROWS_PER_S:,} rows/s"
        else:
            speed_ok = cpu_ratio >= TARGET_XLSX_RATIO
            target = f"target >= {TARGET_XLSX_RATIO}x the bare pass"
        peak_ok = max(small["rss_growth_mb"], full["rss_growth_mb"]) <= TARGET_PEAK_MB
        # Flat: twice the rows may not cost noticeably more (a tenth, or 5 MB of noise).
        flat_ok = full["rss_growth_mb"] <= max(
            small["rss_growth_mb"] * 1.1, small["rss_growth_mb"] + 5
        )
        writes_ok = full["writes_per_1000"] <= TARGET_WRITES_PER_1000
        print(
            f"import {kind}: {rows:,} rows ({full['status']}, {full['created']:,} created): "
            f"{_rate(rows, full['cpu_seconds'])} of CPU time, bare pass "
            f"{_rate(rows, full['bare_cpu_seconds'])}, pipeline/bare {cpu_ratio:.2f}x "
            f"({target}: {'ok' if speed_ok else 'MISSED'})"
        )
        print(
            f"  wall clock on this shared machine: {_rate(rows, full['seconds'])}, bare pass "
            f"{_rate(rows, full['bare_seconds'])}, pipeline/bare {wall_ratio:.2f}x"
        )
        print(
            f"  best of {len(runs)} runs each side; each run's own CPU ratio: "
            + ", ".join(f"{r['bare_cpu_seconds'] / r['cpu_seconds']:.2f}x" for r in runs)
            + (
                ""
                if kind != "csv"
                else "; rates: " + ", ".join(_rate(rows, r["cpu_seconds"]) for r in runs)
            )
        )
        if kind == "csv":
            distinct = _run_child(kind, ROWS, "distinct-phones", "stages")
            print(
                f"  every phone distinct (the phone cache no help; a timed run): "
                f"{_rate(rows, distinct['cpu_seconds'])} of CPU time "
                f"({_rate(rows, distinct['seconds'])} wall clock), of which phones "
                f"{distinct['stages_us_per_row']['phone']:.1f} µs per row"
            )
        if kind != "csv":
            reading, tuned = full["reader_cpu_seconds"], full["tuned_bare_cpu_seconds"]
            print(
                f"  under the import's collector settings: its own reading alone (openpyxl "
                f"opens the workbook, rows from the sheet XML) {_rate(rows, reading)}, bare "
                f"openpyxl {_rate(rows, tuned)}; pipeline/own reading "
                f"{reading / full['cpu_seconds']:.2f}x, pipeline/openpyxl "
                f"{tuned / full['cpu_seconds']:.2f}x"
            )
        if kind == "xlsx-inline":
            print("  (inline strings, no <dimension>: openpyxl's and many exporters' files)")
        else:
            _print_stages(kind, rows)
        print(
            f"  memory: the run rose RSS by at most {small['rss_growth_mb']:.0f} MB at "
            f"{small['rows']:,} rows and {full['rss_growth_mb']:.0f} MB at {rows:,} "
            f"(target <= {TARGET_PEAK_MB} MB: {'ok' if peak_ok else 'MISSED'}; flat as the file "
            f"doubles: {'ok' if flat_ok else 'MISSED'}); whole "
            f"process incl. moto during the run: {full['peak_rss_mb']:.0f} MB at most"
        )
        print(
            f"  DynamoDB writes per 1,000 rows: {full['writes_per_1000']:.1f} (floor 40, target "
            f"<= {TARGET_WRITES_PER_1000}: {'ok' if writes_ok else 'MISSED'}); "
            f"requests: {full['requests']}"
        )


def _print_stages(kind: str, rows: int) -> None:
    staged = _run_child(kind, ROWS, "stages")
    parts = staged["stages_us_per_row"]
    print(
        f"  CPU µs per row by stage (timed run, {staged['cpu_seconds'] * 1e6 / rows:.1f} in "
        f"all; bare pass {staged['bare_cpu_seconds'] * 1e6 / rows:.1f}): "
        + ", ".join(f"{label} {us:.1f}" for label, us in parts.items())
    )


if __name__ == "__main__":
    if len(sys.argv) >= 3:
        options = set(sys.argv[3:])
        figures = measure_one(
            sys.argv[1],
            int(sys.argv[2]),
            stages="stages" in options,
            distinct_phones="distinct-phones" in options,
        )
        print(json.dumps(figures))
    else:
        run()
