"""What the page calls a recording: its folder and file name, and an upload by the name its user gave it;
and what it calls the model that labelled a recording.

An upload added to the catalogue is kept as `<uploads>/<first 12 hex digits of its sha256>/<the user's file
name>`: the folder keeps two uploads of one name apart, the file keeps the name, and the page shows only that.
The page never sees a server path: errors name files by these display names too.
"""

from __future__ import annotations

import re
from pathlib import Path

from asmr_classify.speech_detector import model_id as detector_id

HASH_PREFIX = 12
MAX_NAME_BYTES = 200  # well under the 255 bytes a file name may take on common file systems
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LEGACY = re.compile(r"^[0-9a-f]{12}-(.+)$")  # an upload added by an earlier version: <uploads>/<hash>-<name>
DETECTOR = "YAMNet's ASMR / speech detector"


def folder_and_name(path) -> str:
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def model_name(model_id: str) -> str:
    """A catalogue's `recordings.model` as the page shows it: the ASMR / speech detector (with its rule's hash
    when an earlier rule labelled it), or a model file by its run folder and file name, never its path."""
    kind, _, rule = model_id.partition(":")
    if kind == detector_id().partition(":")[0]:
        return DETECTOR if model_id == detector_id() else f"{DETECTOR} (an earlier rule, {rule})"
    return folder_and_name(model_id)


def upload_name(name: str) -> str:
    """The user's file name as it is kept and shown: its last component (after either slash), without
    control characters or surrounding spaces, cut to MAX_NAME_BYTES of UTF-8 with its extension kept."""
    base = CONTROL.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    suffix = Path(base).suffix
    stem = base[:len(base) - len(suffix)]
    while len(stem.encode()) + len(suffix.encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + suffix


class Names:
    """Display names for a catalogue whose uploads are kept in `uploads` (None: an app without uploads)."""

    def __init__(self, uploads: Path | None = None):
        self.uploads = None if uploads is None else Path(uploads).resolve()

    def display(self, path) -> str:
        """An upload by its user's name; any other recording by its folder and file name (a corpus repeats
        file names per label)."""
        path = Path(path)
        if self.uploads is not None and path.parent.parent == self.uploads:
            return path.name
        if self.uploads is not None and path.parent == self.uploads and (old := LEGACY.match(path.name)):
            return old.group(1)
        return folder_and_name(path)

    def redact(self, text: str, path) -> str:
        """`text` with `path` replaced by its display name."""
        return text.replace(str(path), self.display(path))

    def upload_path(self, digest: str, name: str) -> Path:
        """Where an upload of content `digest` named `name` (an `upload_name`) is kept once added."""
        return self.uploads / digest[:HASH_PREFIX] / name
