"""What every route of the app shares: the catalogue file, the loaded runs, the limits, the display names,
and the uploads and results in the work folder.

Each request opens its own connection to the catalogue (SQLite in WAL mode, `reading`), so pages keep
loading while `catalog` writes into the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException

from asmr_classify import catalog
from asmr_platform.checks import Bodies, bodies
from asmr_platform.engines import Engines
from asmr_platform.generate import Generator, Results
from asmr_platform.names import Names
from asmr_platform.params import ServeParams
from asmr_platform.upload import Uploads


@dataclass
class AppState:
    db: Path
    engines: Engines
    params: ServeParams
    names: Names
    results: Results
    generator: Generator
    uploads: Uploads
    bodies: Bodies

    @classmethod
    def make(cls, db: Path, engines: Engines, work: Path, uploads: Path, params: ServeParams) -> AppState:
        names = Names(uploads)
        results = Results(work)
        return cls(db, engines, params, names, results, Generator(engines, results, params),
                   Uploads(work, names, engines, params), bodies(params))

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        conn = catalog.connect(self.db, create=False)
        try:
            yield conn
        finally:
            conn.close()

    def source(self, segment_id: int) -> dict:
        """A segment's recording path and span; 404 if the catalogue has no such segment."""
        with self.reading() as conn:
            row = conn.execute("SELECT r.path, s.start, s.end FROM segments s JOIN recordings r "
                               "ON r.id = s.recording_id WHERE s.id = ?", (segment_id,)).fetchone()
        if row is None:
            raise no_segment(segment_id)
        return dict(zip(("path", "start", "end"), row, strict=True))

    def need(self, feature: str) -> None:
        """409 with the one-line reason when `feature`'s run was not given."""
        reason = self.engines.missing()[feature]
        if reason is not None:
            raise HTTPException(409, reason)


def no_segment(segment_id: int) -> HTTPException:
    return HTTPException(404, f"segment {segment_id}: not in the catalogue")
