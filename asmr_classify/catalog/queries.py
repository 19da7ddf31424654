"""Reading the catalogue: segments by label, confidence and AudioSet tag with their recording's quality
flags and their tags, the labels it holds, and a CSV of every segment.

`tag` is a case-insensitive text search over each segment's stored best AudioSet classes (YAMNet's
display names: "Whispering", "Tapping" finds "Tapping", "crumpl" finds "Crumpling, crinkling").

A segment of a recording that `audioprep.quality` found too short or digitally silent carries that
flag, and its confidence is no evidence of a trigger (a model is sure of something on padding or
silence): any `min_confidence` above 0 leaves such segments out, and a listing at 0 shows them last,
after every unflagged segment, with their flags.
"""

from __future__ import annotations

import csv
import json
from typing import NamedTuple

from asmr_audioset.lite_yamnet import Tag, format_tags
from asmr_classify.catalog.db import connect
from audioprep.quality import SHORT, SILENT, TRUNCATED

# SQL over recordings `r`: its segments' confidence is no evidence (NULL flags: catalogued before the check)
FLAGGED = "(coalesce(r.short, 0) OR coalesce(r.silent, 0))"
COLUMNS = ("path", "start", "end", "label", "confidence", "flags", "tags")
# SQL over segments `s`: one of its tags contains the text (a LIKE pattern, backslash escapes)
HAS_TAG = "EXISTS (SELECT 1 FROM segment_tags q WHERE q.segment_id = s.id AND q.tag LIKE ? ESCAPE '\\')"


def flagged_recording_ids(conn) -> tuple[int, ...]:
    """Ids of the recordings too short or silent for their segments' confidence to mean anything."""
    return tuple(row[0] for row in conn.execute(f"SELECT id FROM recordings r WHERE {FLAGGED} ORDER BY id"))


class Hit(NamedTuple):
    path: str
    start: float
    end: float
    label: str
    confidence: float
    flags: tuple[str, ...]  # audioprep.quality's names: short, silent, truncated
    tags: tuple[Tag, ...] = ()  # YAMNet's best AudioSet classes over the segment, best first

    @property
    def flag_text(self) -> str:
        return ",".join(self.flags)

    @property
    def tag_text(self) -> str:
        return format_tags(list(self.tags))


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def query(db, label: str | None = None, min_confidence: float = 0.0, tag: str | None = None) -> list[Hit]:
    """Matching segments, best first; those of short or silent recordings only at `min_confidence` 0, and last.
    `tag`: only segments one of whose stored AudioSet tags contains this text (any case)."""
    conn = connect(db, create=False)
    try:
        sql = ("SELECT s.id, r.path, s.start, s.end, s.label, s.confidence, r.short, r.silent, "
               "r.truncated IS NOT NULL FROM segments s JOIN recordings r ON r.id = s.recording_id "
               "WHERE s.confidence >= ?")
        args: list = [min_confidence]
        if min_confidence > 0:
            sql += f" AND NOT {FLAGGED}"
        if label is not None:
            sql += " AND s.label = ?"
            args.append(label)
        if tag is not None:
            sql += f" AND {HAS_TAG}"
            args.append(like_pattern(tag))
        rows = conn.execute(sql + f" ORDER BY {FLAGGED}, s.confidence DESC, r.path, s.start", args).fetchall()
        tags = segment_tags(conn, [row[0] for row in rows])
    finally:
        conn.close()
    return [Hit(*row[1:6], tuple(name for name, on in zip((SHORT, SILENT, TRUNCATED), row[6:], strict=True) if on),
                tuple(tags.get(row[0], ()))) for row in rows]


def segment_tags(conn, segment_ids: list[int]) -> dict[int, list[Tag]]:
    """Each segment's stored AudioSet tags, best first (segments stored without tags are absent)."""
    found: dict[int, list[Tag]] = {}
    for i in range(0, len(segment_ids), 500):  # within SQLite's bound on a statement's parameters
        chunk = segment_ids[i : i + 500]
        rows = conn.execute(f"SELECT segment_id, tag, score FROM segment_tags WHERE segment_id IN "
                            f"({','.join('?' * len(chunk))}) ORDER BY segment_id, rank", chunk)
        for segment_id, name, score in rows:
            found.setdefault(segment_id, []).append(Tag(name, score))
    return found


def labels(db) -> list[str]:
    """Every label the catalogue holds, sorted: the models' classes and the verdicts of its segments
    ("other", "unsure", "silent")."""
    conn = connect(db, create=False)
    try:
        classes = {c for (held,) in conn.execute("SELECT DISTINCT classes FROM recordings") for c in json.loads(held)}
        return sorted(classes | {label for (label,) in conn.execute("SELECT DISTINCT label FROM segments")})
    finally:
        conn.close()


def export_csv(db, out) -> int:
    """Every segment, by recording and time, with its flags; an OSError writing `out` names it."""
    rows = query(db)
    try:
        with open(out, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows([*hit[:5], hit.flag_text, hit.tag_text]
                             for hit in sorted(rows, key=lambda r: (r.path, r.start)))
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(out)) from err
    return len(rows)
