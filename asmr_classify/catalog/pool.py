"""Classifying the files to catalogue, in this process or in worker processes, as each finishes.

With `workers` > 1 each worker is a one-process pool of its own and is given one file at a time, so
when a worker dies (killed, out of memory, a crash in a decoder) the file it held is known: that
file is reported as failed, the worker is replaced, and the other files go on. A worker loads the
model on its first file (counted to the "load" stage); only the parent writes to the catalogue.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from asmr_classify.predict import StageClock, Timeline, load_classifier, timeline_of
from audioprep.errors import AudioError

Classified = tuple[Path, Timeline | None, str | None]  # (path, timeline, None) or (path, None, the error line)

_WORKER: dict = {}  # a worker process's classifier, loaded on its first file


def _worker_timeline(model_path: str | None, threads: int, overlap: float,
                     path: Path) -> tuple[Timeline | None, str | None, dict]:
    """(timeline, None, stage seconds) or (None, the error line, ...): AudioError does not pickle."""
    clock = StageClock()
    if "clf" not in _WORKER:
        if model_path is not None:  # the detector (None) runs on LiteRT alone
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(threads)
        with clock.stage("load"):
            _WORKER["clf"] = load_classifier(model_path)
    try:
        return timeline_of(_WORKER["clf"], path, overlap, clock), None, clock.seconds
    except AudioError as err:
        return None, str(err), clock.seconds


def classified(paths: list[Path], model_path, overlap: float, workers: int, clock: StageClock) -> Iterator[Classified]:
    """Each file's timeline or error line, as each finishes; the stage times go to `clock`."""
    if workers == 1:
        yield from _in_process(paths, model_path, overlap, clock)
    else:
        yield from _in_workers(paths, model_path, overlap, workers, clock)


def _in_process(paths: list[Path], model_path, overlap: float, clock: StageClock) -> Iterator[Classified]:
    with clock.stage("load"):
        clf = load_classifier(model_path) if paths else None
    for path in paths:
        try:
            yield path, timeline_of(clf, path, overlap, clock), None
        except AudioError as err:
            yield path, None, str(err)


def _worker() -> ProcessPoolExecutor:
    # spawn: the parent may hold TensorFlow's threads, which a forked child would inherit half-made
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))


def _in_workers(paths: list[Path], model_path, overlap: float, workers: int,
                clock: StageClock) -> Iterator[Classified]:
    todo = list(reversed(paths))
    threads = max(1, (os.cpu_count() or 1) // workers)
    slots = [_worker() for _ in range(min(workers, len(paths)))]
    running: dict[Future, tuple[int, Path]] = {}

    def give(slot: int) -> None:
        if todo:
            path = todo.pop()
            model = None if model_path is None else str(model_path)
            running[slots[slot].submit(_worker_timeline, model, threads, overlap, path)] = slot, path

    try:
        for slot in range(len(slots)):
            give(slot)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                slot, path = running.pop(future)
                try:
                    timeline, error, seconds = future.result()
                except BrokenProcessPool:
                    slots[slot].shutdown(wait=True)
                    slots[slot] = _worker()
                    error = f"{path}: the worker process classifying it died (killed or crashed)"
                    timeline, seconds = None, {}
                clock.merge(seconds)
                give(slot)
                yield path, timeline, error
    finally:
        for pool in slots:
            pool.shutdown(wait=True, cancel_futures=True)
