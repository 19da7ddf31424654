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
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SORTS = {"confidence": "s.confidence", "length": "s.end - s.start"}  # the latter is the index's expression
ROW = ("SELECT s.id, s.recording_id, r.path, s.start, s.end, s.label, s.confidence "
       "FROM segments s JOIN recordings r ON r.id = s.recording_id")
NO_EMBEDDINGS = ("this catalogue holds no segment embeddings (catalogued by a model without an embedding "
                 "layer, such as a .tflite, or re-merged since): catalogue it again with a Keras run")


@dataclass(frozen=True)
class Filters:
    labels: tuple[str, ...] = ()
    min_confidence: float = 0.0
    min_length: float = 0.0
    recording: int | None = None
    sort: str = "confidence"
    offset: int = 0
    limit: int = 25

    def where(self) -> tuple[str, list]:
        clauses, args = [], []
        if self.labels:
            clauses.append(f"s.label IN ({', '.join('?' * len(self.labels))})")
            args += list(self.labels)
        if self.min_confidence > 0:
            clauses.append("s.confidence >= ?")
            args.append(self.min_confidence)
        if self.min_length > 0:
            clauses.append("s.end - s.start >= ?")
            args.append(self.min_length)
        if self.recording is not None:
            clauses.append("s.recording_id = ?")
            args.append(self.recording)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def index(self) -> str:
        """The index behind the query: the first set filter's in the order recording, label, length,
        confidence (roughly most to least selective), else the sort order's."""
        if self.recording is not None:
            return "segments_recording"
        if self.labels:
            return "segments_label"
        if self.min_length > 0:
            return "segments_length"
        if self.min_confidence > 0:
            return "segments_confidence"
        return {"confidence": "segments_confidence", "length": "segments_length"}[self.sort]

    def count_sql(self) -> tuple[str, list]:
        where, args = self.where()
        return f"SELECT count(*) FROM segments s INDEXED BY {self.index()}{where}", args

    def page_sql(self) -> tuple[str, list]:
        where, args = self.where()
        order = f"ORDER BY {SORTS[self.sort]} DESC, s.id DESC"
        ids = f"SELECT s.id FROM segments s INDEXED BY {self.index()}{where} {order} LIMIT ? OFFSET ?"
        return f"{ROW} WHERE s.id IN ({ids}) {order}", [*args, self.limit, self.offset]


def display_name(path: str) -> str:
    """A recording as the page names it: its folder and file name (a corpus repeats file names per label)."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def as_dict(row, similarity: float | None = None) -> dict:
    segment_id, recording_id, path, start, end, label, confidence = row
    out = {"id": segment_id, "recording_id": recording_id, "recording": display_name(path), "start": start,
           "end": end, "label": label, "confidence": confidence}
    if similarity is not None:
        out["similarity"] = similarity
    return out


def find(conn: sqlite3.Connection, filters: Filters) -> dict:
    """{"total": matching segments, "rows": the page} for `filters`."""
    total = conn.execute(*filters.count_sql()).fetchone()[0]
    sql, args = filters.page_sql()
    return {"total": total, "offset": filters.offset, "limit": filters.limit,
            "rows": [as_dict(r) for r in conn.execute(sql, args)]}


def segment(conn: sqlite3.Connection, segment_id: int) -> dict | None:
    row = conn.execute(f"{ROW} WHERE s.id = ?", (segment_id,)).fetchone()
    return None if row is None else as_dict(row)


def labels(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT label FROM segments ORDER BY label")]


def recordings(conn: sqlite3.Connection) -> list[dict]:
    return [{"id": i, "name": display_name(p), "duration": d}
            for i, p, d in conn.execute("SELECT id, path, duration FROM recordings ORDER BY path")]


def has_embeddings(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM segment_embeddings)").fetchone()[0] == 1


class NoEmbedding(LookupError):
    """The segment has no stored embedding; the message says why, in one line."""


def similar(conn: sqlite3.Connection, segment_id: int, k: int, chunk: int = 4096) -> list[dict]:
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
    found = {r[0]: r for r in conn.execute(
        f"{ROW} WHERE s.id IN ({', '.join('?' * len(order))})", [int(i) for i in best_ids[order]])}
    return [as_dict(found[int(best_ids[i])], float(best_sims[i])) for i in order]
