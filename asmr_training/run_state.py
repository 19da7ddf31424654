"""What a run folder's `state.json` may hold, checked field by field as it is read.

The state is data, not paths: the files it names must be the checkpoints RunDir itself writes into the
folder (`resume-NNNN.keras` and `resume-NNNN.seeds.npz`), so no value can make a resume read, copy or
delete a file anywhere else. Types and ranges are checked too, so a hand-edited or damaged value stops
the run with one line naming the file and the field before any data is read or any epoch trained.
"""

from __future__ import annotations

import re

from audioprep.errors import BadFileError

NAMES = {"checkpoint": re.compile(r"resume-\d{4,}\.keras"), "seeds": re.compile(r"resume-\d{4,}\.seeds\.npz")}


class StateError(ValueError):
    """One field of a state that is not what RunDir writes."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"field '{field}' {problem}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _epoch(value, field: str, below: int | None = None) -> int:
    if not _is_int(value) or value < 0:
        raise StateError(field, f"must be an integer >= 0, not {value!r}")
    if below is not None and value >= below:
        raise StateError(field, f"must be below the state's epoch {below}, not {value!r}")
    return value


def _best(value, field: str) -> None:
    if value is not None and not _is_number(value):
        raise StateError(field, f"must be a number or null, not {value!r}")


def _name(value, field: str, required: bool) -> None:
    """A checkpoint or seeds file name of this folder (null allowed where no epoch has finished)."""
    if value is None and not required:
        return
    kind = field.rsplit(".", 1)[-1]
    if not isinstance(value, str) or not NAMES[kind].fullmatch(value):
        raise StateError(field, f"must name a file of the run folder like "
                                f"{'resume-0001.keras' if kind == 'checkpoint' else 'resume-0001.seeds.npz'}, "
                                f"not {value!r}")


def _history(value, epoch: int) -> None:
    if not isinstance(value, list):
        raise StateError("history", f"must be a list of epoch rows, not {type(value).__name__}")
    if len(value) != epoch:
        raise StateError("history", f"has {len(value)} rows; the state's epoch {epoch} needs one per finished epoch")
    for i, row in enumerate(value):
        if not isinstance(row, dict) or row.get("epoch") != i or not _is_int(row.get("epoch")):
            raise StateError(f"history[{i}]", f"must be a row with 'epoch': {i}")
        for key, number in row.items():
            if not _is_number(number):
                raise StateError(f"history[{i}].{key}", f"must be a number, not {number!r}")


def check_state(path, state: dict, fresh_start: str) -> dict:
    """`state` if it is a state RunDir writes; BadFileError naming `path` and the field otherwise."""
    try:
        epoch = _epoch(state.get("epoch"), "epoch")
        _best(state.get("best"), "best")
        _history(state.get("history"), epoch)
        for field in ("checkpoint", "seeds"):
            _name(state.get(field), field, required=epoch > 0)
        previous = state.get("previous")
        if previous is not None:
            if not isinstance(previous, dict):
                raise StateError("previous", f"must be an object or null, not {previous!r}")
            before = _epoch(previous.get("epoch"), "previous.epoch", below=max(epoch, 1))
            _best(previous.get("best"), "previous.best")
            for field in ("checkpoint", "seeds"):
                _name(previous.get(field), f"previous.{field}", required=before > 0)
    except StateError as err:
        raise BadFileError(path, f"not a run state: {err}; {fresh_start}") from None
    return state
