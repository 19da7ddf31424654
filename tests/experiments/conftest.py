"""Every test of the table scripts leaves the committed results as they were."""

from __future__ import annotations

import pytest

from experiments import harness


def _committed_results() -> dict:
    """Each file under results/ (the quick runs' and caches' folders aside) and its modification time."""
    return {p: p.stat().st_mtime_ns for p in harness.RESULTS.rglob("*")
            if p.is_file() and harness.QUICK_RESULTS not in p.parents and "cache" not in p.parts}


@pytest.fixture(autouse=True)
def _committed_results_untouched():
    before = _committed_results()
    yield
    assert _committed_results() == before, "the test wrote into the committed results/"
