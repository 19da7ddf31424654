"""Files written whole or not at all, and JSON read back with one-line errors naming the file.

Every writer goes through a temporary file beside the target, flushed and renamed over it, so a kill
at any moment leaves either the old or the new complete file.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

from audioprep.errors import BadFileError

FULL_DISK = (errno.ENOSPC, errno.EDQUOT)
PARTIAL = ".partial"  # marks temporary files; a kill can leave one behind, the next open removes it


def to_jsonable(params) -> dict:
    """A params dataclass (or dict) as plain JSON-ready values."""
    if dataclasses.is_dataclass(params):
        params = dataclasses.asdict(params)
    return json.loads(json.dumps(params, default=str))


def _commit(tmp: Path, path: Path) -> None:
    """Flush `tmp` to disk and rename it over `path` (then flush the folder entry)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename itself durable
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def atomic_write(path, write: Callable[[Path], object]) -> Path:
    """`write(tmp)` into a temporary file beside `path`, then commit it over `path` in one rename; a full disk
    is one line naming `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}{PARTIAL}{path.suffix}")  # Keras insists on the .keras suffix
    tmp.unlink(missing_ok=True)
    try:
        write(tmp)
        _commit(tmp, path)
    except OSError as err:
        if err.errno in FULL_DISK:  # the OS error names the temporary file, or nothing: name the real one
            raise BadFileError(path, "no space left on the device while writing it; free some space and rerun") from None
        raise
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text(path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path, payload) -> Path:
    return write_text(path, json.dumps(payload, indent=2, default=str) + "\n")


def read_json(path) -> dict:
    """A JSON object from `path`; BadFileError naming the file if it is missing, unreadable or not JSON."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadFileError(path, "missing") from None
    except UnicodeDecodeError as err:
        raise BadFileError(path, f"not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        what = "empty" if not err.doc.strip() else f"not valid JSON ({err.msg} at line {err.lineno})"
        raise BadFileError(path, what) from None
    if not isinstance(value, dict):
        raise BadFileError(path, f"expected a JSON object, found {type(value).__name__}")
    return value
