"""Writing recordings: one upsert per recording with its probabilities, flags and segments, and
re-merging stored probabilities into segments at another threshold without the model."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import numpy as np

from asmr_classify.catalog.db import connect, write
from asmr_classify.predict import Timeline, segment_embeddings
from audioprep.errors import UsageError

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


def check_threshold(threshold: float) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold {threshold:g}: must be in [0, 1]")
    return threshold


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
    """Upsert one recording with its probabilities, quality flags and segments in one transaction;
    "added", "updated", or "skipped" when another catalogue stored this very content meanwhile."""
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


def forget(conn: sqlite3.Connection, key: str) -> None:
    """Drop what was stored for a file whose new content could not be classified: it no longer describes it."""
    with write(conn):
        conn.execute("DELETE FROM recordings WHERE path = ?", (key,))


def remerge_recording(conn: sqlite3.Connection, recording_id: int, threshold: float) -> bool:
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
        return sum(remerge_recording(conn, i, threshold) for i in ids)
    finally:
        conn.close()
