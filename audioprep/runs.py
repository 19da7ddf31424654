"""Run folders shared by every trainer: best/last checkpoints, one continuous history, params and resume.

A run folder holds `best.keras`, `last.keras`, `history.csv`, `params.json` and `state.json`
(the next epoch and the best monitored value so far), so an interrupted run continues with no
epoch lost or repeated.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import platform
import sys
from pathlib import Path

import keras

from audioprep.errors import UsageError

BEST, LAST, HISTORY, PARAMS, STATE = "best.keras", "last.keras", "history.csv", "params.json", "state.json"


def environment() -> dict:
    """Versions and machine facts written beside every result."""
    import librosa
    import numpy
    import tensorflow as tf

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "librosa": librosa.__version__,
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


def to_jsonable(params) -> dict:
    """A params dataclass (or dict) as plain JSON-ready values."""
    if dataclasses.is_dataclass(params):
        params = dataclasses.asdict(params)
    return json.loads(json.dumps(params, default=str))


def write_json(path, payload) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


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


def load_model(path, **kwargs) -> keras.Model:
    """Load a `.keras` model from a file or run folder, with a one-line error if it is not one."""
    file = resolve_model(path)
    try:
        return keras.models.load_model(file, **kwargs)
    except Exception as err:  # noqa: BLE001 - any decoding failure is reported as the file's fault
        raise UsageError(f"{file}: not a loadable Keras model ({type(err).__name__}: {err})") from err


class RunDir:
    """One training run's folder; `resume=True` picks up from `state.json` and `last.keras`."""

    def __init__(self, out, resume: bool = False, monitor: str = "val_loss", mode: str = "min"):
        self.path = Path(out)
        self.monitor, self.mode = monitor, mode
        self.resume = resume
        if resume and not (self.path / STATE).exists():
            raise UsageError(f"{self.path}: nothing to resume (no {STATE}); drop --resume to start fresh")
        if not resume and (self.path / STATE).exists():
            raise UsageError(f"{self.path}: holds a run already; pass --resume to continue it or pick another --out")
        self.path.mkdir(parents=True, exist_ok=True)
        self.state = json.loads((self.path / STATE).read_text()) if resume else {"epoch": 0, "best": None}

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def initial_epoch(self) -> int:
        return int(self.state["epoch"])

    @property
    def best_value(self):
        return self.state["best"]

    def write_params(self, params, **extra) -> None:
        write_json(self.file(PARAMS), {"params": to_jsonable(params), **extra, "environment": environment()})

    def is_better(self, value: float) -> bool:
        best = self.state["best"]
        if best is None:
            return True
        return value < best if self.mode == "min" else value > best

    def end_epoch(self, epoch: int, logs: dict, model: keras.Model | None = None, save=None) -> bool:
        """Record one finished epoch: append history, save last (and best), then advance the state.

        `save(path)` overrides how the model is written (for multi-model trainers such as a GAN).
        Returns whether this epoch became the best. The state file is written last, so a crash
        mid-epoch leaves the previous epoch's consistent state behind.
        """
        save = save or (lambda p: model.save(p))
        self._append_history(epoch, logs)
        improved = self.monitor in logs and self.is_better(float(logs[self.monitor]))
        save(self.file(LAST))
        if improved:
            save(self.file(BEST))
            self.state["best"] = float(logs[self.monitor])
        self.state["epoch"] = epoch + 1
        write_json(self.file(STATE), self.state)
        return improved

    def _append_history(self, epoch: int, logs: dict) -> None:
        path = self.file(HISTORY)
        rows = self.history()
        rows = [r for r in rows if int(r["epoch"]) < epoch]  # drop any row of an epoch being redone
        rows.append({"epoch": epoch, **{k: float(v) for k, v in logs.items()}})
        keys = ["epoch"] + sorted({k for r in rows for k in r if k != "epoch"})
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)

    def history(self) -> list[dict]:
        path = self.file(HISTORY)
        if not path.exists():
            return []
        with path.open() as fh:
            rows = [{k: (float(v) if v not in ("", None) else None) for k, v in r.items()} for r in csv.DictReader(fh)]
        for row in rows:
            row["epoch"] = int(row["epoch"])
        return rows

    def callback(self) -> keras.callbacks.Callback:
        """Keras callback doing `end_epoch` after every epoch of `model.fit`."""
        run = self

        class _RunCheckpoint(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                run.end_epoch(epoch, logs or {}, self.model)

        return _RunCheckpoint()

    def fit(self, model: keras.Model, train, epochs: int, validation_data=None, callbacks=(), **kwargs):
        """`model.fit` from the saved epoch on (weights and optimizer restored from last.keras)."""
        if self.resume and self.file(LAST).exists():
            model = keras.models.load_model(self.file(LAST))
        if self.initial_epoch >= epochs:
            return model
        model.fit(
            train,
            epochs=epochs,
            initial_epoch=self.initial_epoch,
            validation_data=validation_data,
            callbacks=[self.callback(), *callbacks],
            **kwargs,
        )
        return model
