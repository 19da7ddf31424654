"""Keys for cached work (feature sets, trained models): a short digest of settings and input files.

A file enters the key with its resolved path, size and modification time, so editing or
regenerating data invalidates what was computed from it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path


def settings_key(settings, files: Iterable[Path] = (), length: int = 16) -> str:
    """Hex digest of JSON-able `settings` (dict, list or str) and the identity of `files`."""
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in files:
        path = Path(path)
        stat = path.stat() if path.exists() else None
        digest.update(f"{path.resolve()}:{stat.st_size if stat else -1}:{stat.st_mtime_ns if stat else -1}".encode())
    return digest.hexdigest()[:length]
