"""Reading the catalogue: segments by label and confidence with their recording's quality flags,
the labels it holds, and a CSV of every segment.

A segment of a recording that `audioprep.quality` found too short or digitally silent carries that
flag, and its confidence is no evidence of a trigger (a model is sure of something on padding or
silence): any `min_confidence` above 0 leaves such segments out, and a listing at 0 shows them last,
after every unflagged segment, with their flags.
"""

from __future__ import annotations

import csv
import json
from typing import NamedTuple

from asmr_classify.catalog.db import connect
from audioprep.quality import SHORT, SILENT, TRUNCATED

# SQL over recordings `r`: its segments' confidence is no evidence (NULL flags: catalogued before the check)
FLAGGED = "(coalesce(r.short, 0) OR coalesce(r.silent, 0))"
COLUMNS = ("path", "start", "end", "label", "confidence", "flags")


class Hit(NamedTuple):
    path: str
    start: float
    end: float
    label: str
    confidence: float
    flags: tuple[str, ...]  # audioprep.quality's names: short, silent, truncated

    @property
    def flag_text(self) -> str:
        return ",".join(self.flags)


def query(db, label: str | None = None, min_confidence: float = 0.0) -> list[Hit]:
    """Matching segments, best first; those of short or silent recordings only at `min_confidence` 0, and last."""
    conn = connect(db, create=False)
    try:
        sql = ("SELECT r.path, s.start, s.end, s.label, s.confidence, r.short, r.silent, r.truncated IS NOT NULL "
               "FROM segments s JOIN recordings r ON r.id = s.recording_id WHERE s.confidence >= ?")
        args: list = [min_confidence]
        if min_confidence > 0:
            sql += f" AND NOT {FLAGGED}"
        if label is not None:
            sql += " AND s.label = ?"
            args.append(label)
        rows = conn.execute(sql + f" ORDER BY {FLAGGED}, s.confidence DESC, r.path, s.start", args).fetchall()
    finally:
        conn.close()
    return [Hit(*row[:5], tuple(name for name, on in zip((SHORT, SILENT, TRUNCATED), row[5:], strict=True) if on))
            for row in rows]


def labels(db) -> list[str]:
    """Every label the catalogued recordings were classified with (the models' classes), sorted."""
    conn = connect(db, create=False)
    try:
        return sorted({c for (classes,) in conn.execute("SELECT DISTINCT classes FROM recordings")
                       for c in json.loads(classes)})
    finally:
        conn.close()


def export_csv(db, out) -> int:
    """Every segment, by recording and time, with its flags; an OSError writing `out` names it."""
    rows = query(db)
    try:
        with open(out, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows([*hit[:5], hit.flag_text] for hit in sorted(rows, key=lambda r: (r.path, r.start)))
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(out)) from err
    return len(rows)
