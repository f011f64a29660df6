"""What the render budget costs: a campaign's subject and body, budgeted against bare Jinja2.

The baseline, measured in the same run, renders the same templates with a
plain ``SandboxedEnvironment`` and ``Template.render``; the budgeted render
adds the per-render ``range``, the intercepted ``*``/``**``, the streamed
output count and the wall-clock timer (armed here: the benchmark runs in the
main thread, as Lambda does).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

RENDERS = 20_000
REPEATS = 5
SUBJECT = "News for {{ first_name }}"
BODY = (
    "Hello {{ first_name }} {{ last_name }} of {{ extra.company }},\n"
    "{% for i in range(3) %}item {{ i }} {% endfor %}{{ '-' * 20 }}\nBye."
)


def _per_render_us(
    render: Callable[[str, dict[str, object]], str], fields: dict[str, object]
) -> float:
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(RENDERS):
            render(SUBJECT, fields)
            render(BODY, fields)
        runs.append((time.perf_counter() - started) / RENDERS * 1e6)
    return statistics.median(runs)


def run() -> None:
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import SandboxedEnvironment

    from chalicelib.campaigns import templates

    fields = templates.contact_fields("Zoë", "Martin", "z@example.com", None, {"company": "Acme"})
    plain = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)
    compiled = {source: plain.from_string(source) for source in (SUBJECT, BODY)}
    baseline = _per_render_us(lambda source, f: compiled[source].render(f), fields)
    budgeted = _per_render_us(
        lambda source, f: (
            templates.render_subject(source, f)
            if source is SUBJECT
            else templates.render(source, f)
        ),
        fields,
    )
    print(
        f"templates: subject + body per delivery {budgeted:.1f} µs budgeted, "
        f"{baseline:.1f} µs bare Jinja2 (x{budgeted / baseline:.2f})"
    )


if __name__ == "__main__":
    run()
