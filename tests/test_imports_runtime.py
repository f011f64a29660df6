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
