"""A run folder's `params.json`: what the run is, written when it starts, and the test that a resume is that run.

It holds the params (`params`), the run's settings at the top level (`seed`, `data`, `max_per_file`,
`mixed_precision` and the trainer's own: model kind, split seed, ...), the class names the model's outputs
stand for (`classes`, the one labels record of every model family), what the trainer describes (data
counts, distribution, environment) and `history`, the changes made since: a resume may change only
`epochs` (how far the run goes), and each change is appended there. Any other setting that differs
from the record is refused in one line naming it and both values: a changed setting is a new run.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from asmr_training.run_dir import PARAMS, check_run_folder, fresh_start, read_run_file
from audioprep.errors import BadFileError, UsageError
from audioprep.files import read_json, to_jsonable, write_json

SPEC_SETTINGS = ("seed", "data", "max_per_file", "mixed_precision")
GROWS = "epochs"  # the params field a resume may change


def read_record(folder) -> dict:
    """A run's params.json, with the fields a resume compares; one line naming the file otherwise."""
    path = Path(folder) / PARAMS
    record = read_run_file(folder, PARAMS)
    if not isinstance(record.get("params"), dict):
        raise BadFileError(path, f"field 'params' must be an object; {fresh_start(folder)}")
    missing = [name for name in SPEC_SETTINGS if name not in record]
    if missing:
        raise BadFileError(path, f"records no '{missing[0]}' (written before resumes were checked); "
                                 f"{fresh_start(folder)}")
    if not isinstance(record.get("history", []), list):
        raise BadFileError(path, f"field 'history' must be a list; {fresh_start(folder)}")
    return record


def recorded_params(folder, default):
    """The params a resumed run was started with, as `default`'s class (fields it lacks keep `default`'s)."""
    path = check_run_folder(folder, resume=True) / PARAMS
    stored = read_record(folder)["params"]
    names = {f.name for f in dataclasses.fields(default)}
    try:
        return dataclasses.replace(default, **{k: v for k, v in stored.items() if k in names})
    except (TypeError, ValueError) as err:
        raise BadFileError(path, f"field 'params' does not fit {type(default).__name__} ({err})") from None


def _show(value) -> str:
    return json.dumps(value)


def differences(record: dict, settings: dict, params: dict) -> list[str]:
    """`name: recorded there, asked here` for each asked setting (None: not asked) and params field that differs."""
    found = {}
    for name, value in settings.items():
        if value is not None and to_jsonable({"v": value})["v"] != record.get(name):
            found[name] = (record.get(name), value)
    stored = record["params"]
    for name, value in params.items():
        if name != GROWS and name not in found and value != stored.get(name, value):
            found[name] = (stored.get(name), value)
    return [f"{name} {_show(there)} there, {_show(here)} asked" for name, (there, here) in found.items()]


def check_same_run(folder, record: dict, settings: dict, params: dict) -> None:
    """UsageError in one line if a resume asks for settings other than the run's."""
    found = differences(record, settings, params)
    if found:
        raise UsageError(f"{Path(folder) / PARAMS}: --resume continues the run as it started, not with other "
                         f"settings: {'; '.join(found)} (to change them, train a new run into another --out)")


def write_record(folder, params, settings: dict, classes, **described) -> None:
    """A new run's params.json."""
    from asmr_training.environment import environment

    write_json(Path(folder) / PARAMS, {"params": to_jsonable(params), **to_jsonable(settings),
                                       "classes": list(classes) if classes is not None else None,
                                       **described, "environment": environment(), "history": []})


def record_growth(folder, record: dict, epochs: int, at_epoch: int) -> dict:
    """A resume's new `epochs`, written into params.json with a `history` entry; returns the new record."""
    before = record["params"].get(GROWS)
    if before == epochs:
        return record
    change = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "at_epoch": at_epoch, GROWS: [before, epochs]}
    record = {**record, "params": {**record["params"], GROWS: epochs}, "history": [*record.get("history", []), change]}
    write_json(Path(folder) / PARAMS, record)
    return record


def read_classes(folder) -> list[str] | None:
    """The class names a run folder's model outputs stand for (None: the folder records none)."""
    path = Path(folder) / PARAMS
    if not path.exists():
        return None
    classes = read_json(path).get("classes")
    if classes is None:
        return None
    if not isinstance(classes, list) or not all(isinstance(name, str) for name in classes):
        raise BadFileError(path, "field 'classes' must be a list of class names")
    return classes


def generated_corpus_warning(model) -> str:
    """What every command that runs a model trained on the generated stand-in corpus (params.json's
    `generated_corpus`) prints on stderr."""
    return (f"warning: {model} was trained on the generated corpus: a code-path model, not a detector "
            "for real audio (train on real recordings with --data)")
