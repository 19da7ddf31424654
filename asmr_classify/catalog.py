"""DeepASMR's "platform": a searchable SQLite catalogue of triggers in a folder of recordings.

`recordings` holds a row per file: its content hash, the model, and every window's class
probabilities (float16, 18 bytes a window for nine classes) with the windowing that places them in
time; `segments(recording, start, end, label, confidence)` merges adjacent windows of one label,
leaving out windows whose top probability is under the recording's threshold, so `catalog remerge
--threshold T` redoes the segments without the model. Segments come from the stored float16 values,
so a re-merge at the same threshold gives the same segments. `segment_embeddings` keeps each segment's
mean penultimate-layer vector (unit length, float16) for the app's "more like this"; a re-merge, which
runs without the model, leaves the new segments without one.

Each recording is written in one transaction, an upsert, so an interrupted run keeps every finished
recording, a recording whose decoding fails keeps nothing, and two catalogues of one folder never
collide; a re-run skips recordings whose hash and model are unchanged. The database is in WAL mode
with a busy timeout: `catalog query` reads while a catalogue is being written, and a second writer
waits for its turn. `--workers N` classifies N files at once in worker processes; only the parent
writes.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import multiprocessing
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tqdm import tqdm

from asmr_classify.predict import (
    StageClock,
    Timeline,
    check_overlap,
    load_classifier,
    segment_embeddings,
    timeline_of,
)
from asmr_training.model_files import resolve_model
from audioprep.cli import fraction, int_at_least, unit_interval
from audioprep.errors import AudioError, UsageError
from audioprep.io import file_sha256 as sha256
from audioprep.io import is_audio_file

SCHEMA_VERSION = 3  # 1: segments only, no stored probabilities; 2: no short/silent flags
MIGRATE = {2: ["ALTER TABLE recordings ADD COLUMN short INTEGER", "ALTER TABLE recordings ADD COLUMN silent INTEGER"]}
BUSY_SECONDS = 60.0  # how long a writer waits for another to finish its recording's transaction
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS recordings (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        duration REAL NOT NULL,
        sha256 TEXT NOT NULL,
        model TEXT NOT NULL,
        classes TEXT NOT NULL,
        sample_rate INTEGER NOT NULL,
        window_samples INTEGER NOT NULL,
        hop_samples INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        probabilities BLOB NOT NULL,
        threshold REAL NOT NULL,
        truncated TEXT,
        short INTEGER,  -- audioprep.quality flags, 0/1; NULL for rows catalogued before version 3
        silent INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS segments (
        id INTEGER PRIMARY KEY,
        recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
        start REAL NOT NULL,
        end REAL NOT NULL,
        label TEXT NOT NULL,
        confidence REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS segments_label ON segments(label, confidence)",
    "CREATE INDEX IF NOT EXISTS segments_recording ON segments(recording_id)",
    # the app's filters and sort orders (asmr_platform.find): one index behind each
    "CREATE INDEX IF NOT EXISTS segments_confidence ON segments(confidence)",
    "CREATE INDEX IF NOT EXISTS segments_length ON segments(end - start, confidence)",
    # "more like this": each segment's unit-length mean window embedding, float16
    """CREATE TABLE IF NOT EXISTS segment_embeddings (
        segment_id INTEGER PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
        vector BLOB NOT NULL
    )""",
]
UPSERT = """
INSERT INTO recordings (path, duration, sha256, model, classes, sample_rate, window_samples, hop_samples,
                        samples, probabilities, threshold, truncated, short, silent)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(path) DO UPDATE SET duration = excluded.duration, sha256 = excluded.sha256, model = excluded.model,
    classes = excluded.classes, sample_rate = excluded.sample_rate, window_samples = excluded.window_samples,
    hop_samples = excluded.hop_samples, samples = excluded.samples, probabilities = excluded.probabilities,
    threshold = excluded.threshold, truncated = excluded.truncated, short = excluded.short, silent = excluded.silent
RETURNING id
"""
STORED = "SELECT classes, sample_rate, window_samples, hop_samples, samples, probabilities FROM recordings WHERE id = ?"


def connect(db, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit, see `write`); `create` makes the
    tables, and refuses a catalogue of another schema version, else the catalogue must exist."""
    db = Path(db)
    if not create and not db.is_file():
        raise UsageError(f"{db}: no such catalogue")
    if create and not db.parent.is_dir():
        raise UsageError(f"{db}: no such folder {db.parent}")
    conn = None
    try:
        conn = sqlite3.connect(str(db), timeout=BUSY_SECONDS, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master")  # a file that is no database fails here
        if create:
            _use_wal(conn)
            with write(conn):
                tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'recordings'").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if tables and version in MIGRATE:
                    for statement in MIGRATE[version]:
                        conn.execute(statement)
                elif tables and version != SCHEMA_VERSION:
                    raise UsageError(f"{db}: a catalogue of an {'older' if version < SCHEMA_VERSION else 'newer'} "
                                     f"format (version {version}); catalogue into a new --db")
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return conn
    except BaseException as err:
        if conn is not None:
            conn.close()
        if isinstance(err, sqlite3.DatabaseError):
            raise UsageError(f"{db}: not a usable catalogue ({err})") from err
        raise


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to write-ahead logging, waiting up to BUSY_SECONDS for another connection that is switching.

    SQLite answers "database is locked" at once, without the busy timeout, while another connection
    switches a new file's journal mode: of 300 pairs of threads opening one new catalogue together,
    54 to 57 failed so (two `catalog` commands started at once).
    """
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def write(conn: sqlite3.Connection):
    """One write transaction, taking the write lock at its start (BEGIN IMMEDIATE): a writer that
    reads first and upgrades later could fail with "database is locked" instead of waiting."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def audio_files(folder) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder of recordings")
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_audio_file(p))


def _segments(conn: sqlite3.Connection, recording_id: int, timeline: Timeline, threshold: float) -> None:
    """The recording's segments, and their embeddings when the timeline has them (a re-merge from
    stored probabilities has none, so its segments have no "more like this")."""
    conn.execute("DELETE FROM segments WHERE recording_id = ?", (recording_id,))
    segments, vectors = segment_embeddings(timeline, threshold)
    for i, s in enumerate(segments):
        segment_id = conn.execute(
            "INSERT INTO segments (recording_id, start, end, label, confidence) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (recording_id, s.start, s.end, s.label, s.confidence)).fetchone()[0]
        if vectors is not None:
            conn.execute("INSERT INTO segment_embeddings (segment_id, vector) VALUES (?, ?)",
                         (segment_id, vectors[i].astype("<f2").tobytes()))


def store(conn: sqlite3.Connection, key: str, digest: str, model_id: str, timeline: Timeline, threshold: float) -> str:
    """Upsert one recording with its probabilities and segments in one transaction; "added",
    "updated", or "skipped" when another catalogue stored this very content meanwhile."""
    probs = timeline.probs.astype("<f2")
    timeline = dataclasses.replace(timeline, probs=probs)
    quality = timeline.quality  # None for a timeline not decoded here: nothing known about it
    flags = (None, None, None) if quality is None else (quality.truncated_note, int(quality.short), int(quality.silent))
    with write(conn):
        row = conn.execute("SELECT sha256, model, threshold FROM recordings WHERE path = ?", (key,)).fetchone()
        if row == (digest, model_id, threshold):
            return "skipped"
        recording_id = conn.execute(UPSERT, (
            key, timeline.samples / timeline.sample_rate, digest, model_id, json.dumps(timeline.classes),
            timeline.sample_rate, timeline.window_samples, timeline.hop_samples, timeline.samples, probs.tobytes(),
            threshold, *flags,
        )).fetchone()[0]
        _segments(conn, recording_id, timeline, threshold)
    return "updated" if row else "added"


def _remerge_one(conn: sqlite3.Connection, recording_id: int, threshold: float) -> bool:
    """The recording's segments again from its stored probabilities; False if it is gone."""
    with write(conn):
        row = conn.execute(STORED, (recording_id,)).fetchone()
        if row is None:
            return False
        classes, sr, window, hop, samples, blob = row
        classes = json.loads(classes)
        probs = np.frombuffer(blob, "<f2").reshape(-1, len(classes))
        _segments(conn, recording_id, Timeline(probs, classes, sr, window, hop, samples), threshold)
        conn.execute("UPDATE recordings SET threshold = ? WHERE id = ?", (threshold, recording_id))
    return True


def remerge(db, threshold: float) -> int:
    """Every recording's segments at `threshold`, from the stored probabilities; returns how many."""
    check_threshold(threshold)
    if not Path(db).is_file():
        raise UsageError(f"{db}: no such catalogue")
    conn = connect(db)
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM recordings ORDER BY id").fetchall()]
        return sum(_remerge_one(conn, i, threshold) for i in ids)
    finally:
        conn.close()


def check_threshold(threshold: float) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold {threshold:g}: must be in [0, 1]")
    return threshold


_WORKER: dict = {}  # a worker process's classifier


def _start_worker(model_path: str, threads: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    _WORKER["clf"] = load_classifier(model_path)


def _worker_timeline(path: Path, overlap: float) -> tuple[Timeline | None, str | None, dict]:
    """(timeline, None, stage seconds) or (None, the error line, ...): AudioError does not pickle."""
    clock = StageClock()
    try:
        return timeline_of(_WORKER["clf"], path, overlap, clock), None, clock.seconds
    except AudioError as err:
        return None, str(err), clock.seconds


def _classified(paths: list[Path], model_path, overlap: float, workers: int,
                clock: StageClock) -> Iterator[tuple[Path, Timeline | None, str | None]]:
    """(path, timeline, None) or (path, None, error line) per file, as each finishes."""
    if workers == 1:
        with clock.stage("load"):
            clf = load_classifier(model_path) if paths else None
        for path in paths:
            try:
                yield path, timeline_of(clf, path, overlap, clock), None
            except AudioError as err:
                yield path, None, str(err)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(str(model_path), threads))
    try:
        futures = {pool.submit(_worker_timeline, path, overlap): path for path in paths}
        for future in as_completed(futures):
            timeline, error, seconds = future.result()
            clock.merge(seconds)
            yield futures[future], timeline, error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _file_error(path: Path, err: OSError) -> str:
    return f"{path}: {(err.strerror or str(err)).lower()}"


def build_catalog(folder, model_path, db, overlap: float = 0.0, progress: bool = True, threshold: float = 0.0,
                  workers: int = 1, clock: StageClock | None = None) -> dict:
    """Classify every recording under `folder` into `db`; returns counts of added/updated/remerged/skipped/bad.

    Problems are printed on stderr as they happen, one line each naming the file: files that cannot
    be read or decoded (nothing of them is stored) and files cut short (their decoded part is).
    """
    files = audio_files(folder)  # before connecting: a wrong folder creates nothing
    check_overlap(overlap)
    check_threshold(threshold)
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be >= 1")
    model_id = str(resolve_model(model_path).resolve())
    clock = clock or StageClock()
    counts = dict.fromkeys(("added", "updated", "remerged", "skipped", "bad"), 0)

    def problem(line: str, bad: bool = True) -> None:
        counts["bad"] += bad
        tqdm.write(line, file=sys.stderr)

    conn = connect(db)
    bar = tqdm(total=len(files), desc="cataloguing", unit="file", disable=not progress)
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
            row = conn.execute("SELECT id, sha256, model, threshold FROM recordings WHERE path = ?", (key,)).fetchone()
            if row and row[1:3] == (digest, model_id):
                counts["skipped" if row[3] == threshold else "remerged"] += 1
                if row[3] != threshold:
                    _remerge_one(conn, row[0], threshold)
                bar.update()
                continue
            todo[path] = key, digest
        for path, timeline, error in _classified(list(todo), model_path, overlap, workers, clock):
            key, digest = todo[path]
            with clock.stage("database"):
                if error is not None:
                    problem(f"skipped: {error}")
                    with write(conn):  # what was stored for the file's earlier content no longer describes it
                        conn.execute("DELETE FROM recordings WHERE path = ?", (key,))
                else:
                    for line in timeline.quality.warnings:
                        problem(f"warning: {line}", bad=False)
                    counts[store(conn, key, digest, model_id, timeline, threshold)] += 1
            bar.update()
    finally:
        bar.close()
        conn.close()
    return counts


def query(db, label: str | None = None, min_confidence: float = 0.0) -> list[tuple]:
    """(path, start, end, label, confidence) of matching segments, best first."""
    conn = connect(db, create=False)
    try:
        sql = ("SELECT r.path, s.start, s.end, s.label, s.confidence FROM segments s "
               "JOIN recordings r ON r.id = s.recording_id WHERE s.confidence >= ?")
        args: list = [min_confidence]
        if label is not None:
            sql += " AND s.label = ?"
            args.append(label)
        return conn.execute(sql + " ORDER BY s.confidence DESC, r.path, s.start", args).fetchall()
    finally:
        conn.close()


def labels(db) -> list[str]:
    """Every label the catalogued recordings were classified with (the models' classes), sorted."""
    conn = connect(db, create=False)
    try:
        return sorted({c for (classes,) in conn.execute("SELECT DISTINCT classes FROM recordings")
                       for c in json.loads(classes)})
    finally:
        conn.close()


def export_csv(db, out) -> int:
    rows = query(db)
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "start", "end", "label", "confidence"])
        writer.writerows(sorted(rows, key=lambda r: (r[0], r[1])))
    return len(rows)


def main(argv: list[str]) -> int:
    """`catalog DIR --model M --db F`, `catalog query --db F [--label L] [--min-confidence X]`,
    `catalog export --db F --csv OUT`, `catalog remerge --db F --threshold T`."""
    if argv[:1] == ["query"]:
        parser = argparse.ArgumentParser(prog="asmr_classify catalog query")
        parser.add_argument("--db", required=True, type=Path)
        parser.add_argument("--label")
        parser.add_argument("--min-confidence", type=unit_interval, default=0.0)
        args = parser.parse_args(argv[1:])
        held = labels(args.db)
        if args.label is not None and args.label not in held:
            raise UsageError(f"--label {args.label}: not a label of this catalogue; it holds: {', '.join(held) or 'none'}")
        rows = query(args.db, args.label, args.min_confidence)
        for path, start, end, label, conf in rows:
            print(f"{path}\t{start:.2f}\t{end:.2f}\t{label}\t{conf:.3f}")
        print(f"{len(rows)} segments", file=sys.stderr)
        return 0
    if argv[:1] == ["export"]:
        parser = argparse.ArgumentParser(prog="asmr_classify catalog export")
        parser.add_argument("--db", required=True, type=Path)
        parser.add_argument("--csv", required=True, type=Path)
        args = parser.parse_args(argv[1:])
        print(f"{export_csv(args.db, args.csv)} segments written to {args.csv}")
        return 0
    if argv[:1] == ["remerge"]:
        parser = argparse.ArgumentParser(prog="asmr_classify catalog remerge",
                                         description="redo every recording's segments from its stored probabilities")
        parser.add_argument("--db", required=True, type=Path)
        parser.add_argument("--threshold", required=True, type=unit_interval,
                            help="leave out windows whose top probability is under this")
        args = parser.parse_args(argv[1:])
        print(f"{remerge(args.db, args.threshold)} recordings re-merged at threshold {args.threshold:g}")
        return 0
    parser = argparse.ArgumentParser(prog="asmr_classify catalog",
                                     epilog="also: catalog query --db F ...; catalog export --db F --csv OUT; "
                                            "catalog remerge --db F --threshold T")
    parser.add_argument("folder", type=Path, metavar="DIR")
    parser.add_argument("--model", required=True, help="run folder or .keras file")
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--overlap", type=fraction, default=0.0, help="window overlap (default 0: back-to-back)")
    parser.add_argument("--threshold", type=unit_interval, default=0.0,
                        help="leave out windows whose top probability is under this (default 0: none)")
    parser.add_argument("--workers", type=int_at_least(1), default=1, help="files classified at once, in processes (default 1)")
    parser.add_argument("--timing", action="store_true", help="print the seconds spent per stage on stderr")
    args = parser.parse_args(argv)
    clock = StageClock()
    counts = build_catalog(args.folder, args.model, args.db, args.overlap, threshold=args.threshold,
                           workers=args.workers, clock=clock)
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    if args.timing:
        print(clock.report(), file=sys.stderr)
    return 0
