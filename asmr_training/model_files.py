"""`--model` values: a run folder or a `.keras` file, loaded with one-line errors naming the file."""

from __future__ import annotations

import zipfile
from pathlib import Path

from audioprep.errors import BadFileError, UsageError

BEST, LAST = "best.keras", "last.keras"


def resolve_model(path) -> Path:
    """`--model` accepts a run folder (its best.keras, else last.keras) or a model file."""
    path = Path(path)
    if path.is_dir():
        for name in (BEST, LAST):
            if (path / name).exists():
                return path / name
        raise UsageError(f"{path}: run folder holds neither {BEST} nor {LAST}")
    if not path.exists():
        raise UsageError(f"{path}: no such model file or run folder")
    return path


def load_model(path, **kwargs):
    """Load a `.keras` model from a file or run folder, with a one-line error naming the file if it is not one."""
    import keras

    file = resolve_model(path)
    size = file.stat().st_size
    if size == 0:
        raise BadFileError(file, "empty (0 bytes), not a Keras model")
    if file.suffix == ".keras" and not zipfile.is_zipfile(file):  # Keras would say "File not found"
        raise BadFileError(file, f"truncated or not a Keras model ({size} bytes, not a .keras zip archive)")
    try:
        return keras.models.load_model(file, **kwargs)
    except Exception as err:  # noqa: BLE001 - any decoding failure is reported as the file's fault
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BadFileError(file, f"truncated or not a Keras model ({size} bytes; {reason})") from err
