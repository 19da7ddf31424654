"""Cataloguing a folder: hash each recording, skip or re-merge the unchanged ones, classify the rest
and store each as it finishes, naming every file that could not be catalogued on stderr."""

from __future__ import annotations

import sys
from pathlib import Path

from asmr_classify.catalog.db import connect
from asmr_classify.catalog.pool import classified
from asmr_classify.catalog.records import STORED_KEY, check_threshold, forget, remerge_recording, store
from asmr_classify.params import CATALOG
from asmr_classify.predict import StageClock, check_overlap, tag_source
from asmr_classify.speech_detector import model_id as detector_id
from asmr_training.model_files import resolve_model
from audioprep import console
from audioprep.errors import UsageError
from audioprep.io import file_sha256 as sha256
from audioprep.io import is_audio_file


def audio_files(folder) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder of recordings")
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_audio_file(p))


def _file_error(path: Path, err: OSError) -> str:
    return f"{path}: {(err.strerror or str(err)).lower()}"


def build_catalog(folder, model_path, db, overlap: float = CATALOG.overlap, progress: bool = True,
                  threshold: float = CATALOG.threshold, workers: int = CATALOG.workers,
                  clock: StageClock | None = None) -> dict:
    """Classify every recording under `folder` into `db` with the model at `model_path` (None: the ASMR /
    speech detector); returns counts of added/updated/remerged/skipped/bad.

    Problems are printed on stderr as they happen, one line each naming the file: files that cannot
    be read or decoded, or whose worker process died (nothing of them is stored), and files cut
    short, too short or silent (stored, with their flags).
    """
    files = audio_files(folder)  # before connecting: a wrong folder creates nothing
    check_overlap(overlap)
    check_threshold(threshold)
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be >= 1")
    model_id = detector_id() if model_path is None else str(resolve_model(model_path).resolve())
    # the detector (no --model) gives its own tags; a file whose stored tags another network gave is tagged again
    tags = tag_source(model_path is None)
    clock = clock or StageClock()
    counts = dict.fromkeys(("added", "updated", "remerged", "skipped", "bad"), 0)

    def problem(line: str, bad: bool = True) -> None:
        counts["bad"] += bad
        bar.write(line, file=sys.stderr)

    conn = connect(db)
    bar = console.bar(total=len(files), desc="cataloguing", unit="file", enabled=progress)
    try:
        todo: dict[Path, tuple[str, str]] = {}
        for path in files:
            key = str(path.resolve())
            try:
                with clock.stage("hash"):
                    digest = sha256(path)
            except OSError as err:
                problem(f"skipped: {_file_error(path, err)}")
                bar.update()
                continue
            row = conn.execute(STORED_KEY, (key,)).fetchone()
            if row and row[1:4] == (digest, model_id, tags):
                counts["skipped" if row[4] == threshold else "remerged"] += 1
                if row[4] != threshold:
                    remerge_recording(conn, row[0], threshold)
                bar.update()
                continue
            todo[path] = key, digest
        for path, timeline, error in classified(list(todo), model_path, overlap, workers, clock):
            key, digest = todo[path]
            with clock.stage("database"):
                if error is not None:
                    problem(f"skipped: {error}")
                    forget(conn, key)
                else:
                    for line in timeline.quality.warnings:
                        problem(f"warning: {line}", bad=False)
                    counts[store(conn, key, digest, model_id, timeline, threshold)] += 1
            bar.update()
    finally:
        bar.close()
        conn.close()
    return counts
