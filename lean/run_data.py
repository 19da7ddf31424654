"""A LEAN run's own data: what `train` records of it in params.json, and how `export` reads it back.

`train` records the folder it read (`root`: relative to the repository when inside it, so a checkout moved
elsewhere still finds it), whether that folder is the generated stand-in corpus (`generated_corpus`, which
`tag` warns of), how a labelled folder was read and split (`read_options`, `test_fold`, `val_fold`) and the
clips a quick run capped each split to (`max_clips`). `export` calibrates on and scores against that data,
split as training split it; it never generates a corpus in its place.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from asmr_training.run_dir import PARAMS
from audioprep.errors import UsageError
from audioprep.files import read_json

if TYPE_CHECKING:  # audioprep.datasets costs `tag` 0.1 s of start-up, and it needs none of it
    from audioprep.datasets import ReadOptions

REPOSITORY = Path(__file__).resolve().parents[1]
# Said in an export's metadata description when its run trained on the generated corpus (`tag` looks for it).
GENERATED_NOTE = "trained on the generated stand-in corpus"


def portable_root(root) -> str:
    """`root` relative to the repository when inside it (as a checkout moves), else absolute."""
    path = Path(root).resolve()
    return str(path.relative_to(REPOSITORY)) if path.is_relative_to(REPOSITORY) else str(path)


def data_record(root) -> dict:
    """What params.json records of the folder a run read: where it is and whether it is the generated corpus."""
    from asmr_corpus.writer import is_generated

    return {"root": portable_root(root), "generated_corpus": is_generated(root)}


def split_record(options: ReadOptions, test_fold: int | None, val_fold: int | None, max_clips: dict | None) -> dict:
    """What params.json records of how `train` read and split that folder (`recorded_split` reads it back)."""
    return {"read_options": dataclasses.asdict(options), "test_fold": test_fold, "val_fold": val_fold,
            "max_clips": max_clips}


def run_record(model_path) -> dict:
    """The params.json of the run a `--model` (run folder or a file in one) belongs to; {} when there is none."""
    path = Path(model_path)
    file = (path if path.is_dir() else path.parent) / PARAMS
    return read_json(file) if file.exists() else {}


def recorded_root(model_path, record: dict) -> Path:
    """The folder the run read, as recorded; one line when it records none or the folder is gone."""
    if not record.get("root"):
        raise UsageError(f"--model {model_path}: its run records no training data; pass --data")
    root = Path(record["root"])
    root = root if root.is_absolute() else REPOSITORY / root
    if not root.is_dir():
        raise UsageError(f"--model {model_path}: its training data {record['root']} is gone; pass --data")
    return root


def recorded_split(record: dict, options: ReadOptions, test_fold: int | None, val_fold: int | None):
    """(read options, test fold, val fold): each one given, else the run's own."""
    from audioprep.datasets import ReadOptions

    if options == ReadOptions() and isinstance(record.get("read_options"), dict):
        options = ReadOptions(**record["read_options"])
    return options, test_fold or record.get("test_fold"), val_fold or record.get("val_fold")


def trained_on_generated(model_path, record: dict | None = None) -> bool | None:
    """Whether the model was trained on the generated corpus: its run's params.json, or an export's metadata
    (None: unknown, as for an export without the note or a model outside a run folder)."""
    if Path(model_path).suffix == ".tflite":
        from asmr_tflite.metadata import read_info

        info = read_info(model_path)
        return True if info is not None and GENERATED_NOTE in info.description else None
    record = run_record(model_path) if record is None else record
    if "generated_corpus" not in record and record.get("root"):  # a run from before the flag was recorded
        from asmr_corpus.writer import is_generated

        root = Path(record["root"])
        return is_generated(root if root.is_absolute() else REPOSITORY / root)
    return record.get("generated_corpus")
