"""The catalogue's tables, its format version, and the statements that bring an older format up to it."""

from __future__ import annotations

SCHEMA_VERSION = 5  # 1: segments only, no stored probabilities; 2: no short/silent flags; 3: no abstain, tags;
# 4: no tag source
# version -> the statements that bring it to the next; SCHEMA then adds the new tables and indexes (a statement on
# a table the catalogue does not have yet is left out: SCHEMA creates that table whole)
MIGRATE = {
    2: ["ALTER TABLE recordings ADD COLUMN short INTEGER", "ALTER TABLE recordings ADD COLUMN silent INTEGER"],
    3: ["ALTER TABLE recordings ADD COLUMN abstain REAL", "ALTER TABLE recordings ADD COLUMN abstain_label TEXT",
        "ALTER TABLE recordings ADD COLUMN silent_windows BLOB"],
    4: ["ALTER TABLE recording_tags ADD COLUMN source TEXT"],
}
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
        silent INTEGER,
        abstain REAL,  -- top probability under which a window is abstain_label; NULL before version 4: none
        abstain_label TEXT,
        silent_windows BLOB  -- a byte per window, 1: digital silence (segment label "silent"); NULL: not known
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
    # YAMNet's AudioSet classes: each YAMNet window's best `keep` (asmr_audioset.lite_yamnet.TagTrack), from
    # which a re-merge tags its new segments, and each segment's best, ranked from 0, which queries search
    """CREATE TABLE IF NOT EXISTS recording_tags (
        recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
        hop_samples INTEGER NOT NULL,
        keep INTEGER NOT NULL,
        top_index BLOB NOT NULL,  -- (windows, keep) little-endian uint16 AudioSet class indexes, best first
        top_score BLOB NOT NULL,  -- (windows, keep) little-endian float16 scores
        source TEXT  -- the network that scored them (lite_yamnet.network_id); NULL before version 5
    )""",
    """CREATE TABLE IF NOT EXISTS segment_tags (
        segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,
        tag TEXT NOT NULL,
        score REAL NOT NULL,
        PRIMARY KEY (segment_id, rank)
    )""",
    "CREATE INDEX IF NOT EXISTS segment_tags_tag ON segment_tags(tag, score)",
]
