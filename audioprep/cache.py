"""Cached work (feature sets, trained models): keys from settings and input files, atomic .npz writes.

A file enters the key with its resolved path, size and modification time, so editing or
regenerating data invalidates what was computed from it. Writes go to a temporary file in the
same folder and are renamed into place when complete, so a run killed mid-write never leaves a
truncated cache for the next run to read.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np


def settings_key(settings, files: Iterable[Path] = (), length: int = 16) -> str:
    """Hex digest of JSON-able `settings` (dict, list or str) and the identity of `files`."""
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in files:
        path = Path(path)
        stat = path.stat() if path.exists() else None
        digest.update(f"{path.resolve()}:{stat.st_size if stat else -1}:{stat.st_mtime_ns if stat else -1}".encode())
    return digest.hexdigest()[:length]


def write_npz(path, arrays: Mapping[str, np.ndarray]) -> None:
    """Save `arrays` as an uncompressed .npz at `path`, atomically (temporary file, then `os.replace`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
