"""Add: an uploaded file is received under a size limit, classified, and on request catalogued.

The body is written to the server's work folder as it arrives and refused (413) as soon as it passes
the limit. The client's file name gives only the extension (one of the audio formats) and a display
name; the stored name is made here. The file is decoded by the same streaming reader, with the same
checks, as every catalogued file, at `catalog`'s default windowing; "add" moves it into the uploads
folder beside the catalogue and stores it with `catalog.store`, exactly as `catalog` would.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from asmr_classify import catalog
from asmr_classify.predict import Timeline, file_result, merge_windows, timeline_of
from asmr_platform.engines import Engines
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


def safe_name(name: str) -> str:
    """A file name made from the client's: its last component only, letters, digits, '.', '-' and '_'."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).stem).strip(".-")[:60] or "upload"
    return stem + Path(name).suffix.lower()


class Uploads:
    def __init__(self, work: Path, folder: Path, engines: Engines, params: ServeParams = ServeParams()):
        self.work, self.folder, self.engines, self.params = work, folder, engines, params
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def check_name(self, name: str) -> None:
        if not is_audio_file(name):
            raise UploadError(415, f"{Path(name).name or name}: not an audio file (use {', '.join(AUDIO_EXTENSIONS)})")

    def check_size(self, name: str, size: int) -> None:
        if size > self.params.upload_max_bytes:
            raise UploadError(413, f"{name}: larger than the upload limit of {self.params.upload_max_mb:g} MB")

    def spool(self) -> Path:
        """A fresh file in the work folder for an arriving body."""
        fd, path = tempfile.mkstemp(prefix="upload-", dir=self.work)
        os.close(fd)
        return Path(path)

    def classify(self, name: str, spooled: Path) -> dict:
        """Classify a received file; AudioError (one line naming the upload) if it cannot be decoded."""
        path = spooled.with_name(f"{spooled.name}-{safe_name(name)}")
        spooled.replace(path)  # libsndfile reads the format from the extension too
        try:
            digest = catalog.sha256(path)
            with self.engines.lock:
                timeline = timeline_of(self.engines.classifier, path, self.params.upload_overlap)
        except AudioError as err:
            path.unlink(missing_ok=True)
            raise AudioError(name, err.reason) from None
        # the float16 probabilities `catalog` stores: the segments shown are the ones "add" will store
        timeline = dataclasses.replace(timeline, probs=timeline.probs.astype("<f2"))
        with self._lock:
            self._pending[digest] = Pending(Path(name).name, path, digest, timeline)
        result = file_result(name, timeline)
        segments = merge_windows(timeline.windows(self.params.catalog_threshold))
        return {"id": digest, "name": Path(name).name, "duration": timeline.samples / timeline.sample_rate,
                "label": result.label, "probabilities": result.probabilities, "majority": result.majority,
                "truncated": result.truncated and result.truncated.replace(str(path), Path(name).name),
                "segments": [{"start": s.start, "end": s.end, "label": s.label, "confidence": s.confidence}
                             for s in segments]}

    def add(self, db, upload_id: str) -> dict:
        """Catalogue a classified upload: the file moves into the uploads folder, then `catalog.store`."""
        with self._lock:
            pending = self._pending.pop(upload_id, None)
        if pending is None:
            raise KeyError(upload_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{pending.digest[:12]}-{safe_name(pending.name)}"
        shutil.move(pending.path, final)
        key = str(final.resolve())
        conn = catalog.connect(db)
        try:
            status = catalog.store(conn, key, pending.digest, self.engines.model_id, pending.timeline,
                                   self.params.catalog_threshold)
            recording_id = conn.execute("SELECT id FROM recordings WHERE path = ?", (key,)).fetchone()[0]
        finally:
            conn.close()
        return {"status": status, "recording_id": recording_id, "name": final.name}
