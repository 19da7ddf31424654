"""The embedded default corpus: deterministic, procedural stand-ins written in the real datasets' layouts.

`write_layout("deepasmr", out)` writes `out/deepasmr/<label>/<session>.wav` and so on for
`asmr85`, `commonvoice`, `adell` and `fsd50k` (see data/README.md), so the dataset adapters read
generated and real data alike. Same seed -> byte-identical files: every file draws from its own
random generator seeded by (seed, layout, file index), whatever the number of worker processes.
"""

from __future__ import annotations

from pathlib import Path

from asmr_corpus.deepasmr import DEEPASMR_LABELS
from asmr_corpus.writer import write_jobs
from audioprep.datasets import LAYOUTS
from audioprep.errors import UsageError

# default: the corpus of the full runs; quick: only what the table scripts' --quick budgets read;
# small: a few files per class, for the tests.
SIZES = ("small", "quick", "default")

__all__ = ["DEEPASMR_LABELS", "LAYOUTS", "SIZES", "write_layout"]


def write_layout(layout: str, out_dir, seed: int = 0, size: str = "default", workers: int | None = None,
                 progress: bool = True) -> Path:
    """Write `out_dir/<layout>/` (or every layout for "all", returning `out_dir`).

    `workers`: processes rendering files (None: one per core, none for small); the bytes written
    do not depend on it."""
    if size not in SIZES:
        raise UsageError(f"--size {size}: choose one of {', '.join(SIZES)}")
    out_dir = Path(out_dir)
    if layout == "all":
        for name in LAYOUTS:
            write_layout(name, out_dir, seed, size, workers, progress)
        return out_dir
    if layout not in LAYOUTS:
        raise UsageError(f"--layout {layout}: choose one of {', '.join(LAYOUTS)}, all")
    return write_jobs(layout, out_dir / layout, seed, size, workers, progress)
