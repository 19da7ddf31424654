"""Renders a layout's planned files in worker processes and writes its metadata.

A layout module provides `plan(rng, size) -> list[dict]` (each job has a "path" relative to the
layout folder), `render(job, rng) -> (audio, sr)`, and optionally `write_metadata(root, jobs)`.
The plan draws from a generator seeded by (seed, layout); file i renders from one seeded by
(seed, layout, i), so output bytes do not depend on scheduling or the number of workers. Every
layout folder written gets a `.generated` mark, so a model trained on it can say so (`is_generated`).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import types
import zlib
from pathlib import Path

import numpy as np

from asmr_corpus.location import COMPLETE_MARK
from audioprep import console
from audioprep.io import write_audio

GENERATED_MARK = ".generated"


def is_generated(root) -> bool:
    """Whether `root` is a layout folder this package generated (the synth's mark, or the default corpus's)."""
    return any((Path(root) / mark).exists() for mark in (GENERATED_MARK, COMPLETE_MARK))


def layout_key(layout: str) -> int:
    """A stable integer for a layout name (Python's hash() is salted per process)."""
    return zlib.crc32(layout.encode())


def cores() -> int:
    """The cores this process may run on: a CPU mask or cpuset counts, which os.cpu_count() ignores."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _render_one(task: tuple[str, str, int, int, dict]) -> str:
    layout, root, seed, index, job = task
    module = importlib.import_module(f"asmr_corpus.{layout}")
    rng = np.random.default_rng([seed, layout_key(layout), index])
    audio, sr = module.render(job, rng)
    write_audio(Path(root) / job["path"], audio, sr)
    return job["path"]


def _pool(workers: int):
    """A spawn pool (safe once the caller has started TensorFlow threads) whose workers do not re-import
    the caller's __main__: a table script's imports TensorFlow, seconds per worker, and they need only
    this module. Every worker starts here, so the caller's __main__ is hidden only meanwhile."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        return multiprocessing.get_context("spawn").Pool(workers)
    finally:
        sys.modules["__main__"] = main


def write_jobs(layout: str, root: Path, seed: int, size: str, workers: int | None = None,
               progress: bool = True) -> Path:
    """Render and write every planned file; `workers` None: one process per core, in-process for
    small (seconds of work, not worth starting processes)."""
    module = importlib.import_module(f"asmr_corpus.{layout}")
    jobs = module.plan(np.random.default_rng([seed, layout_key(layout)]), size)
    root.mkdir(parents=True, exist_ok=True)
    tasks = [(layout, str(root), seed, i, job) for i, job in enumerate(jobs)]
    # Longest files first keeps every worker busy to the end.
    tasks.sort(key=lambda task: -task[4].get("seconds", 0.0))
    bar = console.bar(total=len(tasks), desc=f"synth {layout}", unit="file", enabled=progress, leave=False)
    if workers is None:
        workers = 1 if size == "small" else cores()
    if workers <= 1:
        for task in tasks:
            _render_one(task)
            bar.update()
    else:
        with _pool(workers) as pool:
            for _ in pool.imap_unordered(_render_one, tasks, chunksize=1):
                bar.update()
    bar.close()
    if hasattr(module, "write_metadata"):
        module.write_metadata(root, jobs)
    (root / GENERATED_MARK).write_text(f"layout={layout} seed={seed} size={size}\n")
    return root
