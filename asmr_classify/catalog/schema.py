"""The catalogue's tables, its format version, and the statements that bring an older format up to it."""

from __future__ import annotations

SCHEMA_VERSION = 3  # 1: segments only, no stored probabilities; 2: no short/silent flags
MIGRATE = {2: ["ALTER TABLE recordings ADD COLUMN short INTEGER", "ALTER TABLE recordings ADD COLUMN silent INTEGER"]}
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
