"""Find and "more like this" over a catalogue, in SQL: a page of a filtered, sorted segment list costs an
index search and LIMIT rows whatever the catalogue's size, and similarity scans the stored embeddings a
chunk at a time.

Each filter is added to the query only when it is set, and the query names the index it must use
(INDEXED BY, so a query that could not use it fails instead of scanning the table): recording ->
segments_recording, else label -> segments_label, else minimum length -> segments_length (an index on
the expression `end - start`), else minimum confidence -> segments_confidence, else the sort order's
own index, walked backwards. Without statistics SQLite would often walk the sort order's index and
test every row against a selective filter. The page's ids come from that index alone; only those
LIMIT rows are then joined to their recordings.

The search text matches recordings by the name the page shows, labels by their text, and YAMNet's AudioSet
tags by their names ("whisper" finds "Whispering"); its segments are gathered from segments_recording,
segments_label and segment_tags_tag and looked up by id (NOT INDEXED: by rowid only). The labels and tag
names it is matched against are read by a loose index scan (`distinct`), a seek per name, not a row per
segment.

A segment's label may be a verdict rather than a trigger: `other` (the model's top probability is under its
abstain threshold, "none of these"), `unsure` (the ASMR / speech detector's), or `silent` (digital silence,
confidence 0). `none_of_these` names them, so the page can keep them apart from the triggers.

A recording that `audioprep.quality` found too short or digitally silent is no evidence of a trigger
(a model is sure of something on padding or silence), as in `catalog query`: a minimum confidence above 0
leaves its segments out, and otherwise the listing shows them after every other segment, with their flags.
So a listing is at most two runs, each in its own order: the unflagged recordings' segments, then the
flagged ones' (`Part`). Lists of ids go to SQLite as one JSON argument, whatever their length.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass

import numpy as np

from asmr_classify.catalog.queries import flagged_recording_ids, segment_tags
from asmr_platform.names import Names, model_name
from audioprep.quality import SHORT, SILENT, TRUNCATED

SORTS = {"confidence": "s.confidence", "length": "s.end - s.start"}  # the latter is the index's expression
ROW = ("SELECT s.id, s.recording_id, r.path, r.model, s.start, s.end, s.label, s.confidence, r.short, r.silent, "
       "r.truncated IS NOT NULL FROM segments s JOIN recordings r ON r.id = s.recording_id")
IDS = "(SELECT value FROM json_each(?))"
DISTINCT = ("WITH RECURSIVE v(x) AS (SELECT min({column}) FROM {table} UNION ALL "
            "SELECT (SELECT min({column}) FROM {table} WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL) "
            "SELECT x FROM v WHERE x IS NOT NULL")
NO_EMBEDDINGS = ("this catalogue holds no segment embeddings (catalogued by a model without an embedding "
                 "layer, such as a .tflite, or re-merged since): catalogue it again with a Keras run or the "
                 "ASMR / speech detector (no --model)")


@dataclass(frozen=True)
class Filters:
    """What the page asks for; `text` matches recording names, labels and AudioSet tags (case-insensitive,
    any part)."""

    labels: tuple[str, ...] = ()
    min_confidence: float = 0.0
    min_length: float = 0.0
    recording: int | None = None
    sort: str = "confidence"
    offset: int = 0
    limit: int = 25
    text: str = ""


@dataclass(frozen=True)
class Matches:
    """What a search text matched: recordings (by id), labels and AudioSet tag names."""

    recordings: tuple[int, ...]
    labels: tuple[str, ...]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """One run of a listing: the WHERE clauses, their arguments, and the index that serves them (None: the
    rows are looked up by id from the search text's ids)."""

    index: str | None
    clauses: tuple[str, ...]
    args: tuple

    def _from(self) -> str:
        how = "NOT INDEXED" if self.index is None else f"INDEXED BY {self.index}"
        where = (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""
        return f"FROM segments s {how}{where}"

    def count_sql(self) -> tuple[str, list]:
        return f"SELECT count(*) {self._from()}", list(self.args)

    def page_sql(self, sort: str, offset: int, limit: int) -> tuple[str, list]:
        order = f"ORDER BY {SORTS[sort]} DESC, s.id DESC"
        ids = f"SELECT s.id {self._from()} {order} LIMIT ? OFFSET ?"
        return f"{ROW} WHERE s.id IN ({ids}) {order}", [*self.args, limit, offset]


def _text_clause(matches: Matches) -> tuple[str, list]:
    """`s.id IN` the segments of the matched recordings, labels and tags, each gathered from its own index."""
    gathers, args = [], []
    if matches.recordings:
        gathers.append(f"SELECT id FROM segments INDEXED BY segments_recording WHERE recording_id IN {IDS}")
        args.append(json.dumps(matches.recordings))
    if matches.labels:
        gathers.append(f"SELECT id FROM segments INDEXED BY segments_label WHERE label IN {IDS}")
        args.append(json.dumps(matches.labels))
    if matches.tags:
        gathers.append(f"SELECT segment_id FROM segment_tags INDEXED BY segment_tags_tag WHERE tag IN {IDS}")
        args.append(json.dumps(matches.tags))
    return f"s.id IN ({' UNION ALL '.join(gathers)})", args


def parts(filters: Filters, flagged: tuple[int, ...] = (), matches: Matches | None = None) -> list[Part]:
    """The runs of a listing: segments of unflagged recordings, then (at minimum confidence 0) of the
    `flagged` ones; `matches` is what `filters.text` matched (None: no text)."""
    if matches is not None and not (matches.recordings or matches.labels or matches.tags):
        return []
    clauses, args = [], []
    if filters.labels:
        clauses.append(f"s.label IN ({', '.join('?' * len(filters.labels))})")
        args += list(filters.labels)
    if filters.min_confidence > 0:
        clauses.append("s.confidence >= ?")
        args.append(filters.min_confidence)
    if filters.min_length > 0:
        clauses.append("s.end - s.start >= ?")
        args.append(filters.min_length)
    if filters.recording is not None:
        clauses.append("s.recording_id = ?")
        args.append(filters.recording)
    if matches is not None:
        clause, more = _text_clause(matches)
        clauses.append(clause)
        args += more
    if not flagged:
        return [Part(_index(filters, matches), tuple(clauses), tuple(args))]
    first = Part(_index(filters, matches), (*clauses, f"s.recording_id NOT IN {IDS}"), (*args, json.dumps(flagged)))
    if filters.min_confidence > 0:
        return [first]
    return [first, Part("segments_recording", (*clauses, f"s.recording_id IN {IDS}"), (*args, json.dumps(flagged)))]


def _index(filters: Filters, matches: Matches | None) -> str | None:
    """The index behind a run: the first set filter's in the order recording, search text, label, length,
    confidence (roughly most to least selective), else the sort order's."""
    if filters.recording is not None:
        return "segments_recording"
    if matches is not None:
        return None
    if filters.labels:
        return "segments_label"
    if filters.min_length > 0:
        return "segments_length"
    if filters.min_confidence > 0:
        return "segments_confidence"
    return {"confidence": "segments_confidence", "length": "segments_length"}[filters.sort]


def matching(conn: sqlite3.Connection, text: str, names: Names) -> Matches:
    """Recordings whose shown name, labels whose text and AudioSet tags whose name contain `text`,
    case-insensitively."""
    needle = text.casefold()
    return Matches(tuple(i for i, path in conn.execute("SELECT id, path FROM recordings ORDER BY id")
                         if needle in names.display(path).casefold()),
                   tuple(label for label in labels(conn) if needle in label.casefold()),
                   tuple(tag for tag in distinct(conn, "segment_tags", "tag") if needle in tag.casefold()))


def distinct(conn: sqlite3.Connection, table: str, column: str) -> list[str]:
    """The distinct values of an indexed column, in order: each the smallest above the last, found by one
    seek in the column's index (a loose index scan), so the cost grows with the values, not the rows."""
    return [value for (value,) in conn.execute(DISTINCT.format(table=table, column=column))]


def flags(short, silent, truncated) -> list[str]:
    """A recording's `audioprep.quality` flags by name (unknown ones, NULL, are not shown)."""
    return [name for name, on in ((SHORT, short), (SILENT, silent), (TRUNCATED, truncated)) if on]


def as_dicts(conn: sqlite3.Connection, rows: list, names: Names, similarities: list[float] | None = None) -> list[dict]:
    """Segment rows (`ROW`'s columns) as the API sends them, each with the name of the model that labelled it
    and its stored AudioSet tags, best first."""
    tags = segment_tags(conn, [row[0] for row in rows])
    models = {row[3]: model_name(row[3]) for row in rows}
    out = []
    for i, (segment_id, recording_id, path, model, start, end, label, confidence, *quality) in enumerate(rows):
        out.append({"id": segment_id, "recording_id": recording_id, "recording": names.display(path),
                    "model": models[model], "start": start, "end": end, "label": label, "confidence": confidence,
                    "flags": flags(*quality), "tags": [asdict(t) for t in tags.get(segment_id, ())]})
        if similarities is not None:
            out[-1]["similarity"] = similarities[i]
    return out


def find(conn: sqlite3.Connection, filters: Filters, names: Names = Names()) -> dict:
    """{"total": matching segments, "rows": the page} for `filters`; the page may span both runs."""
    text = filters.text.strip()
    runs = parts(filters, flagged_recording_ids(conn), matching(conn, text, names) if text else None)
    total, rows, offset = 0, [], filters.offset
    for part in runs:
        count = conn.execute(*part.count_sql()).fetchone()[0]
        if offset < count and len(rows) < filters.limit:
            rows += conn.execute(*part.page_sql(filters.sort, offset, filters.limit - len(rows))).fetchall()
        offset = max(0, offset - count)
        total += count
    return {"total": total, "offset": filters.offset, "limit": filters.limit, "rows": as_dicts(conn, rows, names)}


def segment(conn: sqlite3.Connection, segment_id: int, names: Names) -> dict | None:
    row = conn.execute(f"{ROW} WHERE s.id = ?", (segment_id,)).fetchone()
    return None if row is None else as_dicts(conn, [row], names)[0]


def labels(conn: sqlite3.Connection) -> list[str]:
    """Every label the catalogue's segments hold, triggers and verdicts alike."""
    return distinct(conn, "segments", "label")


def none_of_these(conn: sqlite3.Connection, also: tuple[str, ...] = ()) -> list[str]:
    """The labels that are verdicts, not triggers: each model's abstain label (`other`, the detector's
    `unsure`), `silent`, and `also` (the abstain label of the model that classifies uploads)."""
    held = conn.execute("SELECT DISTINCT abstain_label FROM recordings WHERE abstain_label IS NOT NULL")
    return sorted({SILENT, *also} | {label for (label,) in held})


def models(conn: sqlite3.Connection) -> list[dict]:
    """What labelled the catalogue: each model by name (never its path), with how many recordings it labelled,
    its abstain threshold and label (None: catalogued before abstaining), most recordings first."""
    rows = conn.execute("SELECT model, abstain, abstain_label, count(*) FROM recordings "
                        "GROUP BY model, abstain, abstain_label ORDER BY count(*) DESC, model")
    return [{"name": model_name(model), "recordings": n, "abstain": abstain, "abstain_label": label}
            for model, abstain, label, n in rows]


def recordings(conn: sqlite3.Connection, names: Names) -> list[dict]:
    """Every recording by its shown name, with its length, flags and the name of the model that labelled it."""
    rows = conn.execute("SELECT id, path, model, duration, short, silent, truncated IS NOT NULL FROM recordings")
    models: dict[str, str] = {}
    listed = [{"id": i, "name": names.display(p), "model": models.setdefault(m, model_name(m)), "duration": d,
               "flags": flags(*quality)} for i, p, m, d, *quality in rows]
    return sorted(listed, key=lambda r: (r["name"].casefold(), r["id"]))


def has_embeddings(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM segment_embeddings)").fetchone()[0] == 1


class NoEmbedding(LookupError):
    """The segment has no stored embedding; the message says why, in one line."""


def similar(conn: sqlite3.Connection, segment_id: int, k: int, names: Names, chunk: int = 4096) -> list[dict]:
    """The k segments of other recordings whose embeddings are nearest (cosine) to this one's, nearest first.

    Only recordings catalogued by the same model are compared (another model's vectors live in another
    space). Vectors are unit length, so cosine is a dot product; they are read `chunk` rows at a time
    and only the best k are kept, so memory does not grow with the catalogue.
    """
    row = conn.execute(
        "SELECT e.vector, r.model, s.recording_id FROM segments s JOIN recordings r ON r.id = s.recording_id "
        "LEFT JOIN segment_embeddings e ON e.segment_id = s.id WHERE s.id = ?", (segment_id,)).fetchone()
    if row is None:
        raise KeyError(segment_id)
    blob, model, recording_id = row
    if blob is None:
        raise NoEmbedding(NO_EMBEDDINGS if not has_embeddings(conn) else
                          "this segment has no stored embedding (its recording was re-merged or catalogued by a "
                          "model without an embedding layer): catalogue the recording again")
    query = np.frombuffer(blob, "<f2").astype(np.float32)
    best_ids, best_sims = np.zeros(0, np.int64), np.zeros(0, np.float32)
    cursor = conn.execute(
        "SELECT e.segment_id, e.vector FROM segment_embeddings e JOIN segments s ON s.id = e.segment_id "
        "JOIN recordings r ON r.id = s.recording_id WHERE r.model = ? AND s.recording_id != ?", (model, recording_id))
    while rows := cursor.fetchmany(chunk):
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        vectors = np.frombuffer(b"".join(r[1] for r in rows), "<f2").reshape(len(rows), -1).astype(np.float32)
        best_ids = np.concatenate([best_ids, ids])
        best_sims = np.concatenate([best_sims, vectors @ query])
        if len(best_ids) > k:
            keep = np.argpartition(-best_sims, k)[:k]
            best_ids, best_sims = best_ids[keep], best_sims[keep]
    order = np.lexsort((best_ids, -best_sims))  # nearest first; ties by id, so the list is deterministic
    found = {r[0]: r for r in conn.execute(f"{ROW} WHERE s.id IN {IDS}", [json.dumps(best_ids[order].tolist())])}
    return as_dicts(conn, [found[int(best_ids[i])] for i in order], names, [float(best_sims[i]) for i in order])
