"""Add: an uploaded file is received under a size limit, classified, and on request catalogued.

It is classified by `Engines.labeller` (--model's classifier, else YAMNet's ASMR / speech detector) and
catalogued under that model's id; the answers name the model as the page does (`names.model_name`).

The body is written to the server's work folder as it arrives and refused (413) as soon as it passes
the limit. The client's file name is kept only as a name (`names.upload_name`: its last component), never
as a path. The file is decoded by the same streaming reader, with the same checks, as every catalogued
file, at `catalog`'s default windowing, with YAMNet's AudioSet tags of the file and of each segment
(the ones `catalog` stores); the answer carries `audioprep.quality`'s flags and warnings (too
short, silent, cut short) as `catalog` prints them, naming the upload. "add" moves the file into the
uploads folder under its own name (`names.Names.upload_path`) and stores it with `catalog.store`, exactly
as `catalog` would.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from asmr_audioset.params import TAGS
from asmr_classify import catalog
from asmr_classify.predict import Timeline, file_result, merge_windows, timeline_of
from asmr_platform.engines import Engines
from asmr_platform.names import Names, model_name, upload_name
from asmr_platform.params import ServeParams
from audioprep.errors import AudioError
from audioprep.io import AUDIO_EXTENSIONS, is_audio_file


class UploadError(ValueError):
    """A refused upload: `status` is the HTTP status, the message one line naming the upload."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Pending:
    name: str
    path: Path
    digest: str
    timeline: Timeline


class Uploads:
    def __init__(self, work: Path, names: Names, engines: Engines, params: ServeParams = ServeParams()):
        self.work, self.names, self.engines, self.params = work, names, engines, params
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def check_name(self, name: str) -> str:
        """The name the upload is kept and shown under; UploadError (415) unless it names an audio file."""
        kept = upload_name(name)
        if not is_audio_file(kept):
            raise UploadError(415, f"{kept or 'the upload'}: not an audio file (use {', '.join(AUDIO_EXTENSIONS)})")
        return kept

    def check_size(self, name: str, size: int) -> None:
        if size > self.params.upload_max_bytes:
            raise UploadError(413, f"{name}: larger than the upload limit of {self.params.upload_max_mb:g} MB")

    def spool(self) -> Path:
        """A fresh file in the work folder for an arriving body."""
        fd, path = tempfile.mkstemp(prefix="upload-", dir=self.work)
        os.close(fd)
        return Path(path)

    def classify(self, name: str, spooled: Path) -> dict:
        """Classify a received file kept as `name` (a `check_name`); AudioError naming the upload if it
        cannot be decoded."""
        path = spooled.with_name(f"{spooled.name}-{name}")
        spooled.replace(path)  # libsndfile reads the format from the extension too
        try:
            digest = catalog.sha256(path)
            with self.engines.lock:
                timeline = timeline_of(self.engines.labeller, path, self.params.upload_overlap)
        except AudioError as err:
            path.unlink(missing_ok=True)
            raise AudioError(name, err.reason.replace(str(path), name)) from None
        # the float16 probabilities `catalog` stores: the segments shown are the ones "add" will store
        timeline = dataclasses.replace(timeline, probs=timeline.probs.astype("<f2"))
        with self._lock:
            self._pending[digest] = Pending(name, path, digest, timeline)
        result = file_result(name, timeline)
        quality = timeline.quality
        segments = merge_windows(timeline.windows(self.params.catalog_threshold))
        return {"id": digest, "name": name, "model": model_name(self.engines.labeller_id),
                "duration": timeline.samples / timeline.sample_rate,
                "label": result.label, "confidence": result.confidence, "probabilities": result.probabilities,
                "majority": result.majority, "tags": [asdict(t) for t in result.tags],
                "flags": list(quality.flags), "warnings": [line.replace(str(path), name) for line in quality.warnings],
                "segments": [{"start": s.start, "end": s.end, "label": s.label, "confidence": s.confidence,
                              "tags": [asdict(t) for t in self._tags(timeline, s)]} for s in segments]}

    @staticmethod
    def _tags(timeline: Timeline, segment) -> list:
        """The AudioSet tags `catalog.store` would keep for the segment."""
        return [] if timeline.tags is None else timeline.tags.tags(segment.start, segment.end, TAGS.stored)

    def add(self, db, upload_id: str) -> dict:
        """Catalogue a classified upload: the file moves into the uploads folder, then `catalog.store`."""
        with self._lock:
            pending = self._pending.pop(upload_id, None)
        if pending is None:
            raise KeyError(upload_id)
        final = self.names.upload_path(pending.digest, pending.name)
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(pending.path, final)
        key = str(final)
        conn = catalog.connect(db)
        try:
            status = catalog.store(conn, key, pending.digest, self.engines.labeller_id, pending.timeline,
                                   self.params.catalog_threshold)
            recording_id = conn.execute("SELECT id FROM recordings WHERE path = ?", (key,)).fetchone()[0]
        finally:
            conn.close()
        return {"status": status, "recording_id": recording_id, "name": self.names.display(final),
                "model": model_name(self.engines.labeller_id)}
