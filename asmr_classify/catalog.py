"""DeepASMR's "platform": a searchable SQLite catalogue of triggers in a folder of recordings.

`recordings(path, duration, sha256, model)` and `segments(recording, start, end, label,
confidence)`, where adjacent windows of one label are merged into one segment. Each recording is
written in its own transaction, so an interrupted run keeps every recording already finished;
a re-run skips recordings whose content hash (and model) is unchanged and redoes changed ones.
"""

from __future__ import annotations

import csv
import hashlib
import sqlite3
import sys
from pathlib import Path

from tqdm import tqdm

from asmr_classify.predict import classify_file, load_classifier, merge_windows
from audioprep.errors import AudioError, UsageError
from audioprep.io import duration_seconds, is_audio_file
from audioprep.runs import resolve_model

SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    duration REAL NOT NULL,
    sha256 TEXT NOT NULL,
    model TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    start REAL NOT NULL,
    end REAL NOT NULL,
    label TEXT NOT NULL,
    confidence REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_label ON segments(label, confidence);
"""


def connect(db) -> sqlite3.Connection:
    conn = sqlite3.connect(str(db))
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    return conn


def sha256(path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def audio_files(folder) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder of recordings")
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_audio_file(p))


def build_catalog(folder, model_path, db, overlap: float = 0.0, progress: bool = True) -> dict:
    """Classify every recording under `folder` into `db`; returns counts of added/updated/skipped/bad."""
    model_id = str(resolve_model(model_path).resolve())
    clf = None  # loaded on first need, so a fully up-to-date catalogue costs no model load
    counts = {"added": 0, "updated": 0, "skipped": 0, "bad": 0}
    bad: list[str] = []
    conn = connect(db)
    try:
        for path in tqdm(audio_files(folder), desc="cataloguing", unit="file", disable=not progress):
            key = str(path.resolve())
            digest = sha256(path)
            row = conn.execute("SELECT id, sha256, model FROM recordings WHERE path = ?", (key,)).fetchone()
            if row and row[1] == digest and row[2] == model_id:
                counts["skipped"] += 1
                continue
            try:
                clf = clf or load_classifier(model_path)
                result = classify_file(clf, path, overlap)
                duration = duration_seconds(path)
            except AudioError as err:
                bad.append(str(err))
                counts["bad"] += 1
                continue
            with conn:  # one transaction per recording: all of it is stored, or none
                if row:
                    conn.execute("DELETE FROM recordings WHERE id = ?", (row[0],))
                cur = conn.execute("INSERT INTO recordings (path, duration, sha256, model) VALUES (?, ?, ?, ?)",
                                   (key, duration, digest, model_id))
                conn.executemany(
                    "INSERT INTO segments (recording_id, start, end, label, confidence) VALUES (?, ?, ?, ?, ?)",
                    [(cur.lastrowid, s.start, s.end, s.label, s.confidence) for s in merge_windows(result.windows)],
                )
            counts["updated" if row else "added"] += 1
    finally:
        conn.close()
    for line in bad:
        print(f"skipped: {line}", file=sys.stderr)
    return counts


def query(db, label: str | None = None, min_confidence: float = 0.0) -> list[tuple]:
    """(path, start, end, label, confidence) of matching segments, best first."""
    if not Path(db).exists():
        raise UsageError(f"{db}: no such catalogue")
    conn = connect(db)
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


def export_csv(db, out) -> int:
    rows = query(db)
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "start", "end", "label", "confidence"])
        writer.writerows(sorted(rows, key=lambda r: (r[0], r[1])))
    return len(rows)


def main(argv: list[str]) -> int:
    """`catalog DIR --model M --db F`, `catalog query --db F [--label L] [--min-confidence X]`,
    `catalog export --db F --csv OUT`."""
    import argparse

    if argv[:1] == ["query"]:
        parser = argparse.ArgumentParser(prog="asmr_classify catalog query")
        parser.add_argument("--db", required=True, type=Path)
        parser.add_argument("--label")
        parser.add_argument("--min-confidence", type=float, default=0.0)
        args = parser.parse_args(argv[1:])
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
        if not args.db.exists():
            raise UsageError(f"{args.db}: no such catalogue")
        print(f"{export_csv(args.db, args.csv)} segments written to {args.csv}")
        return 0
    parser = argparse.ArgumentParser(prog="asmr_classify catalog",
                                     epilog="also: catalog query --db F ...; catalog export --db F --csv OUT")
    parser.add_argument("folder", type=Path, metavar="DIR")
    parser.add_argument("--model", required=True, help="run folder or .keras file")
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--overlap", type=float, default=0.0, help="window overlap (default 0: back-to-back)")
    args = parser.parse_args(argv)
    counts = build_catalog(args.folder, args.model, args.db, args.overlap)
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0
