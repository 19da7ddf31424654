"""Writing recordings: one upsert per recording with its probabilities, flags, abstain threshold, silent
windows, AudioSet tag track and segments (each with its best AudioSet tags), and re-merging stored
probabilities into segments at another threshold without the model."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import numpy as np

from asmr_audioset.abstain import OTHER
from asmr_audioset.lite_yamnet import TagTrack
from asmr_audioset.params import TAGS
from asmr_classify.catalog.db import connect, write
from asmr_classify.predict import Timeline, segment_embeddings
from audioprep.errors import UsageError

UPSERT = """
INSERT INTO recordings (path, duration, sha256, model, classes, sample_rate, window_samples, hop_samples,
                        samples, probabilities, threshold, truncated, short, silent, abstain, abstain_label,
                        silent_windows)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(path) DO UPDATE SET duration = excluded.duration, sha256 = excluded.sha256, model = excluded.model,
    classes = excluded.classes, sample_rate = excluded.sample_rate, window_samples = excluded.window_samples,
    hop_samples = excluded.hop_samples, samples = excluded.samples, probabilities = excluded.probabilities,
    threshold = excluded.threshold, truncated = excluded.truncated, short = excluded.short, silent = excluded.silent,
    abstain = excluded.abstain, abstain_label = excluded.abstain_label, silent_windows = excluded.silent_windows
RETURNING id
"""
STORED = ("SELECT classes, sample_rate, window_samples, hop_samples, samples, probabilities, abstain, abstain_label, "
          "silent_windows FROM recordings WHERE id = ?")
STORED_TAGS = "SELECT hop_samples, keep, top_index, top_score, source FROM recording_tags WHERE recording_id = ?"
# what decides whether a file is catalogued again: its content, its model, its tags' network, then its threshold
STORED_KEY = ("SELECT r.id, r.sha256, r.model, t.source, r.threshold FROM recordings r "
              "LEFT JOIN recording_tags t ON t.recording_id = r.id WHERE r.path = ?")


def check_threshold(threshold: float) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold {threshold:g}: must be in [0, 1]")
    return threshold


def _segments(conn: sqlite3.Connection, recording_id: int, timeline: Timeline, threshold: float) -> None:
    """The recording's segments with their best AudioSet tags, and their embeddings when the timeline has
    them (a re-merge from stored probabilities has none, so its segments have no "more like this")."""
    conn.execute("DELETE FROM segments WHERE recording_id = ?", (recording_id,))
    segments, vectors = segment_embeddings(timeline, threshold)
    for i, s in enumerate(segments):
        segment_id = conn.execute(
            "INSERT INTO segments (recording_id, start, end, label, confidence) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (recording_id, s.start, s.end, s.label, s.confidence)).fetchone()[0]
        if vectors is not None:
            conn.execute("INSERT INTO segment_embeddings (segment_id, vector) VALUES (?, ?)",
                         (segment_id, vectors[i].astype("<f2").tobytes()))
        if timeline.tags is not None:
            conn.executemany("INSERT INTO segment_tags (segment_id, rank, tag, score) VALUES (?, ?, ?, ?)",
                             [(segment_id, rank, t.label, t.score)
                              for rank, t in enumerate(timeline.tags.tags(s.start, s.end, TAGS.stored))])


def _store_tags(conn: sqlite3.Connection, recording_id: int, track: TagTrack | None) -> None:
    conn.execute("DELETE FROM recording_tags WHERE recording_id = ?", (recording_id,))
    if track is not None:
        conn.execute("INSERT INTO recording_tags (recording_id, hop_samples, keep, top_index, top_score, source) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (recording_id, track.hop_samples, track.index.shape[1],
                                                   track.index.astype("<u2").tobytes(),
                                                   track.score.astype("<f2").tobytes(), track.source))


def _stored_tags(conn: sqlite3.Connection, recording_id: int) -> TagTrack | None:
    row = conn.execute(STORED_TAGS, (recording_id,)).fetchone()
    if row is None:
        return None
    hop, keep, index, score, source = row
    return TagTrack(np.frombuffer(index, "<u2").reshape(-1, keep), np.frombuffer(score, "<f2").reshape(-1, keep), hop,
                    source)


def store(conn: sqlite3.Connection, key: str, digest: str, model_id: str, timeline: Timeline, threshold: float) -> str:
    """Upsert one recording with its probabilities, quality flags, tags and segments in one transaction;
    "added", "updated", or "skipped" when another catalogue stored this very content meanwhile. A silent
    window's segment is labelled "silent" with confidence 0, never a trigger."""
    probs = timeline.probs.astype("<f2")
    timeline = dataclasses.replace(timeline, probs=probs)
    quality = timeline.quality  # None for a timeline not decoded here: nothing known about it
    flags = (None, None, None) if quality is None else (quality.truncated_note, int(quality.short), int(quality.silent))
    silent = None if timeline.silent is None else np.asarray(timeline.silent, np.uint8).tobytes()
    source = None if timeline.tags is None else timeline.tags.source
    with write(conn):
        row = conn.execute(STORED_KEY, (key,)).fetchone()
        if row is not None and row[1:] == (digest, model_id, source, threshold):
            return "skipped"
        recording_id = conn.execute(UPSERT, (
            key, timeline.samples / timeline.sample_rate, digest, model_id, json.dumps(timeline.classes),
            timeline.sample_rate, timeline.window_samples, timeline.hop_samples, timeline.samples, probs.tobytes(),
            threshold, *flags, timeline.abstain, timeline.abstain_label, silent,
        )).fetchone()[0]
        _store_tags(conn, recording_id, timeline.tags)
        _segments(conn, recording_id, timeline, threshold)
    return "updated" if row else "added"


def forget(conn: sqlite3.Connection, key: str) -> None:
    """Drop what was stored for a file whose new content could not be classified: it no longer describes it."""
    with write(conn):
        conn.execute("DELETE FROM recordings WHERE path = ?", (key,))


def remerge_recording(conn: sqlite3.Connection, recording_id: int, threshold: float) -> bool:
    """The recording's segments again from its stored probabilities, abstain threshold, silent windows and
    tags; False if it is gone. Recordings stored before format 4 have none of the last three."""
    with write(conn):
        row = conn.execute(STORED, (recording_id,)).fetchone()
        if row is None:
            return False
        classes, sr, window, hop, samples, blob, abstain, abstain_label, silent = row
        classes = json.loads(classes)
        probs = np.frombuffer(blob, "<f2").reshape(-1, len(classes))
        silent = None if silent is None else np.frombuffer(silent, np.uint8).astype(bool)
        timeline = Timeline(probs, classes, sr, window, hop, samples, silent=silent, abstain=abstain or 0.0,
                            abstain_label=abstain_label or OTHER, tags=_stored_tags(conn, recording_id))
        _segments(conn, recording_id, timeline, threshold)
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
