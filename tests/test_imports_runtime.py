"""An import run tunes the cycle collector for bulk work and leaves the process as it found it."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from tests.conftest import User
from tests.imports_helpers import import_case


def test_can_import_and_leave_the_collector_as_it_was(
    ana: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.imports import pipeline

    seen: list[tuple[tuple[int, int, int], int]] = []
    real = pipeline._run

    def watched(*args: Any) -> bool:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return real(*args)

    before = gc.get_threshold(), gc.get_freeze_count()
    monkeypatch.setattr(pipeline, "_run", watched)
    job = import_case(ana, ana.new_directory("Runtime"), "C01_bom_crlf.csv")
    assert (job["status"], job["created"]) == ("completed", 2)
    ((threshold, frozen),) = seen
    assert threshold[0] == pipeline.GC_THRESHOLD and frozen > 0  # tuned while it ran
    assert (gc.get_threshold(), gc.get_freeze_count()) == before  # and set back


def test_can_overlap_two_runs_and_the_last_to_end_sets_the_collector_back() -> None:
    from chalicelib.imports import pipeline

    before = gc.get_threshold(), gc.get_freeze_count()
    first = pipeline._collector_for_bulk_work()
    second = pipeline._collector_for_bulk_work()
    first.__enter__()
    second.__enter__()  # as another handler's thread would, while the first runs
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == pipeline.GC_THRESHOLD  # the second still runs tuned
    second.__exit__(None, None, None)
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
