"""Cold start: importing app.py in a fresh interpreter, against `import boto3` alone.

Both are timed in the same run, alternating, in fresh interpreters, so the
ratio holds on a noisy machine even when the absolute numbers move. The
target is at most 1.3x; modules the API must not load at cold start are
listed if they appear.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "21"))
TARGET_RATIO = 1.3
# boto3, PyJWT (with cryptography) and pydantic load on the first request that
# needs them; openpyxl, reportlab and the phonenumbers geocoder never in the API.
MUST_NOT_LOAD = (
    "openpyxl",
    "reportlab",
    "phonenumbers.geocoder",
    "boto3",
    "jwt",
    "cryptography",
    "pydantic",
)

_PROBE = """
import json, sys, time
t = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t
print(json.dumps({{"ms": elapsed * 1000, "loaded": [m for m in {watch!r} if m in sys.modules]}}))
"""


def _time_import(module: str, env: dict[str, str]) -> tuple[float, list[str]]:
    code = _PROBE.format(module=module, watch=MUST_NOT_LOAD)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return float(data["ms"]), list(data["loaded"])


def run() -> dict[str, float]:
    """Print the cold-start figures and return them."""
    env = {**os.environ, "STAGE": "local", "JWT_SECRET": "bench-secret-bench-secret-bench-secret"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # Warm the bytecode caches so the first run measures imports, not compiling.
    _time_import("boto3", env)
    _time_import("app", env)
    boto3_ms, app_ms, loaded = [], [], set()
    for _ in range(RUNS):
        boto3_ms.append(_time_import("boto3", env)[0])
        ms, mods = _time_import("app", env)
        app_ms.append(ms)
        loaded.update(mods)
    boto3_median = statistics.median(boto3_ms)
    app_median = statistics.median(app_ms)
    ratio = app_median / boto3_median
    # The fastest run is the one the machine's noise touched least.
    best_ratio = min(app_ms) / min(boto3_ms)
    verdict = "ok" if ratio <= TARGET_RATIO else f"OVER the {TARGET_RATIO}x target"
    print(
        f"cold start: import app.py {app_median:.0f} ms vs import boto3 {boto3_median:.0f} ms "
        f"(medians of {RUNS} fresh interpreters, alternating) = {ratio:.2f}x ({verdict}); "
        f"fastest runs {min(app_ms):.0f} vs {min(boto3_ms):.0f} ms = {best_ratio:.2f}x"
    )
    print(f"  heavy modules loaded by the API's cold start: {sorted(loaded) or 'none'}")
    return {"app_ms": app_median, "boto3_ms": boto3_median, "ratio": ratio, "best": best_ratio}


if __name__ == "__main__":
    run()
