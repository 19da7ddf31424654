"""Run folders shared by every trainer: atomic checkpoints, one continuous history, params and exact resume.

A run folder holds `best.keras`, `last.keras`, `history.csv`, `params.json` and `state.json`, plus
the resume checkpoint `resume-EPOCH.keras` with its `resume-EPOCH.seeds.npz` (the model's random
generator states, which a `.keras` file does not keep); `last.keras` is a copy of that checkpoint. Every file is written to a temporary file
beside it, flushed to disk and renamed over the old one, so a kill at any moment leaves either the
old or the new complete file. `state.json` is written last and is the commit point: it names the
checkpoint of the last finished epoch and the one before it (`previous`), and carries the next epoch,
the best monitored value and the history rows, so `history.csv` can be rebuilt from it. A checkpoint
for a later epoch that `state.json` does not name yet (a kill between the two writes) is removed when
the run is reopened. If the newest checkpoint is damaged after all (a disk error, a hand edit),
resume falls back to the previous one with a warning and redoes that epoch.

Early stopping (a `keras.callbacks.EarlyStopping` passed to `fit`) is carried across a resume: the
finished epochs' values are replayed into it, so its patience count and best value run on where they
were, and a run it stopped stays stopped.

Resume is exact when the trainer's data order is a function of (seed, epoch) (`asmr_training.batches`)
and its global seed is set as in the first run: the resumed run then ends bit for bit where an
uninterrupted one would.

`state.json` is checked field by field as it is read (asmr_training.run_state), so it can only name this
folder's own checkpoints. Trainers open a RunDir through asmr_training.start, which also writes
`params.json` (asmr_training.run_record) and holds the folder's lock (asmr_training.run_lock).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import shutil
import sys
from pathlib import Path

from asmr_training.model_files import BEST, LAST, load_model
from asmr_training.run_state import check_state
from audioprep.errors import BadFileError, UsageError
from audioprep.files import PARTIAL, atomic_write, read_json, write_json, write_text

HISTORY, PARAMS, STATE = "history.csv", "params.json", "state.json"
CHECKPOINT = "resume-{epoch:04d}.keras"


def seed_states(model) -> list:
    """The model's random generator state variables (Dropout, sampling layers), in a stable order."""
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def write_seeds(path: Path, model) -> None:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, *[np.asarray(v.numpy()) for v in seed_states(model)])
    atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))


def read_seeds(path: Path, model) -> None:
    import numpy as np

    states = seed_states(model)
    try:
        with np.load(path) as stored:
            values = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    except FileNotFoundError:
        raise BadFileError(path, "missing; the run cannot resume exactly") from None
    except Exception as err:  # noqa: BLE001 - any decoding failure is the file's fault
        raise BadFileError(path, f"damaged ({type(err).__name__}: {err})") from None
    if len(values) != len(states):
        raise BadFileError(path, f"holds {len(values)} generator states, the model has {len(states)}")
    for variable, value in zip(states, values, strict=True):
        variable.assign(value)


def check_run_folder(out, resume: bool) -> Path:
    """`--out` / `--resume` agree with what the folder holds; a CLI calls this before loading any data."""
    path = Path(out)
    state = path / STATE
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: not a folder (--out names a run folder)")
    if resume and not state.exists():
        raise UsageError(f"{path}: nothing to resume (no {STATE}); drop --resume to start fresh")
    if not resume and state.exists():
        raise UsageError(f"{path}: holds a run already; pass --resume to continue it or pick another --out")
    return path


def build_before_tracing(model, data, y=None) -> None:
    """Make a compiled model's optimizer, metric and loss variables before `fit` traces its train step.

    Keras does this itself only under a distribution strategy. Otherwise the first trace of the train step
    makes them, and tf.function, which lets only a first trace make variables, traces the step a second
    time: building them first halves the tracing of every run (a two-epoch VAE on 27 tiny slices:
    8 s -> 4.5 s on one core). It uses Keras's own `_symbolic_build` (keras is pinned in requirements.txt;
    tests/test_runs.py counts the traces).
    `data` is what `fit` gets: a PyDataset (its first batch is read), a tf.data.Dataset (its element spec
    alone: drawing a batch would move its shuffle) or arrays, with `y`.
    """
    import keras

    if hasattr(data, "element_spec"):
        batch = data.element_spec
    elif isinstance(data, keras.utils.PyDataset):
        batch = data[0]
    else:
        batch = keras.tree.map_structure(lambda a: a[:1], (data,) if y is None else (data, y))
    model._symbolic_build(data_batch=batch)


def fresh_start(folder) -> str:
    return f"move {folder} aside (or pick another --out) and train afresh without --resume"


def read_run_file(folder, name: str) -> dict:
    """One of a run folder's JSON files; one line naming it, and how to start afresh, if it is unreadable."""
    path = Path(folder) / name
    try:
        return read_json(path)
    except BadFileError as err:
        raise BadFileError(path, f"{err.reason}; the run cannot resume: {fresh_start(folder)}") from None


def read_state(folder) -> dict:
    """`state.json`, checked field by field (asmr_training.run_state); one line naming the file if it is bad."""
    return check_state(Path(folder) / STATE, read_run_file(folder, STATE), fresh_start(folder))


def read_history(folder) -> list[dict]:
    """A run's finished epochs, one row each, read without opening the folder for writing (reports, plots)."""
    return [dict(row) for row in read_state(folder)["history"]]


class RunDir:
    """One training run's folder; `resume=True` picks up from `state.json` and the checkpoint it names."""

    def __init__(self, out, resume: bool = False, monitor: str = "val_loss", mode: str = "min", chief: bool = True):
        self.path = check_run_folder(out, resume)
        self.monitor, self.mode = monitor, mode
        self.resume = resume
        self.chief = chief  # False: another worker of a multi-worker run writes this folder (asmr_training.distribute)
        self.state = self._read_state() if resume else {"epoch": 0, "best": None, "history": []}
        if chief:
            self.path.mkdir(parents=True, exist_ok=True)
            self._tidy()

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def initial_epoch(self) -> int:
        return int(self.state["epoch"])

    @property
    def best_value(self):
        return self.state["best"]

    def _fresh_start(self) -> str:
        return fresh_start(self.path)

    def _read_state(self) -> dict:
        return read_state(self.path)

    def _tidy(self) -> None:
        """Remove what a kill left behind: temporary files and checkpoints `state.json` does not name."""
        previous = self.state.get("previous") or {}
        named = {self.state.get("checkpoint"), self.state.get("seeds"), previous.get("checkpoint"), previous.get("seeds")}
        for leftover in [*self.path.glob(f".*{PARTIAL}*"), *self.path.glob("resume-*")]:
            if leftover.name not in named:
                leftover.unlink()
        if self.resume and self.initial_epoch and self.file(self.state["checkpoint"]).exists():
            self._copy_last()  # a kill between the commit and the copy, or a damaged last.keras
        if self.resume:
            self._check_history()

    def _check_history(self) -> None:
        """history.csv must equal the state's record; a missing or damaged one is rebuilt from it, with a note."""
        path = self.file(HISTORY)
        try:
            same = json.dumps(self._read_csv(path), sort_keys=True) == json.dumps(self.history(), sort_keys=True)
            problem = None if same else f"differs from {STATE}'s record"
        except FileNotFoundError:
            problem = "missing"
        except (ValueError, KeyError, TypeError, csv.Error, UnicodeDecodeError) as err:
            problem = f"damaged ({type(err).__name__})"
        if problem:
            self._write_history()
            print(f"note: {path}: {problem}; rebuilt from {self.file(STATE)}", file=sys.stderr)

    @staticmethod
    def _read_csv(path: Path) -> list[dict]:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = [{k: float(v) for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(fh)]
        for row in rows:
            row["epoch"] = int(row["epoch"])
        return rows

    def is_better(self, value: float) -> bool:
        best = self.state["best"]
        if best is None:
            return True
        return value < best if self.mode == "min" else value > best

    def restore(self, model=None):
        """The model to continue from: the checkpoint with its generator states when resuming, else `model`
        (the freshly built one, which is also what a damaged first checkpoint falls back to).

        A damaged newest checkpoint falls back to the previous one (one warning line; that epoch is
        redone); if that one is damaged too, BadFileError names the file in one line.
        """
        try:
            return self._load_checkpoint(model)
        except BadFileError as err:
            previous = self.state.get("previous")
            if previous is None or (not previous["epoch"] and model is None):  # no fallback, or no fresh model
                raise BadFileError(err.path, f"{err.reason}; {self._fresh_start()}") from None
            print(f"warning: {err}; resuming from the checkpoint of epoch {previous['epoch']} instead",
                  file=sys.stderr)
        self._rewind(previous)
        try:
            return self._load_checkpoint(model)
        except BadFileError as err:
            raise BadFileError(err.path, f"{err.reason}; {self._fresh_start()}") from None

    def _load_checkpoint(self, model):
        if not self.initial_epoch:
            return model
        file = self.file(self.state["checkpoint"])
        if not file.exists():
            raise BadFileError(file, f"missing, though {STATE} names it")
        restored = load_model(file)
        read_seeds(self.file(self.state["seeds"]), restored)
        return restored

    def _rewind(self, previous: dict) -> None:
        """Commit `previous` as the run's state (its epochs' history, no earlier fallback), then drop the
        damaged newer checkpoint."""
        damaged = [self.state["checkpoint"], self.state["seeds"]]
        epoch = int(previous["epoch"])
        self.state = {**previous, "epoch": epoch, "history": self.history()[:epoch], "previous": None}
        if not self.chief:  # the chief rewinds the files
            return
        self._write_history()
        write_json(self.file(STATE), self.state)
        if epoch:
            self._copy_last()
        for name in damaged:
            self.file(name).unlink(missing_ok=True)

    def end_epoch(self, epoch: int, logs: dict, model) -> bool:
        """Record one finished epoch: checkpoint, best model, history, then commit it in `state.json`.

        Returns whether this epoch became the best.
        """
        row = {"epoch": epoch, **{k: float(v) for k, v in logs.items()}}
        history = [r for r in self.history() if r["epoch"] < epoch] + [row]
        improved = self.monitor in logs and self.is_better(float(logs[self.monitor]))
        checkpoint = CHECKPOINT.format(epoch=epoch + 1)
        seeds = checkpoint.replace(".keras", ".seeds.npz")
        if self.chief:
            atomic_write(self.file(checkpoint), model.save)
            write_seeds(self.file(seeds), model)
            if improved:  # the same bytes as the checkpoint: copied, not serialised again (LEAN: 28 MB)
                atomic_write(self.file(BEST), lambda tmp: shutil.copyfile(self.file(checkpoint), tmp))
        old = self.state
        previous = {key: old.get(key) for key in ("epoch", "best", "checkpoint", "seeds")}
        self.state = {"epoch": epoch + 1, "best": float(logs[self.monitor]) if improved else old["best"],
                      "checkpoint": checkpoint, "seeds": seeds, "history": history, "previous": previous}
        if not self.chief:  # the record stays in step; the chief writes the files
            return improved
        self._write_history()
        write_json(self.file(STATE), self.state)  # the commit point
        self._copy_last()
        older = old.get("previous") or {}
        for name in (older.get("checkpoint"), older.get("seeds")):  # two epochs back: no longer a fallback
            if name and name not in (checkpoint, seeds, previous["checkpoint"], previous["seeds"]):
                self.file(name).unlink(missing_ok=True)
        return improved

    def _copy_last(self) -> None:
        """`last.keras`, the user's copy of the latest checkpoint (damage to it never touches the resume file)."""
        atomic_write(self.file(LAST), lambda tmp: shutil.copyfile(self.file(self.state["checkpoint"]), tmp))

    def _write_history(self) -> None:
        rows = self.history()
        keys = ["epoch"] + sorted({k for r in rows for k in r if k != "epoch"})
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text(self.file(HISTORY), text.getvalue())

    def history(self) -> list[dict]:
        """One row per finished epoch, from `state.json` (history.csv is its export)."""
        return [dict(row) for row in self.state["history"]]

    def _replay(self, stoppers, model) -> bool:
        """Feed the finished epochs' values to each EarlyStopping, as if they had watched them; whether
        one of them has stopped the run."""
        model.stop_training = False
        for stopper in stoppers:
            stopper.set_model(model)
            for row in self.history():
                stopper.on_epoch_end(row["epoch"], row)
        return bool(model.stop_training)

    def callback(self, data=None, stoppers=()):
        """Keras callback doing `end_epoch` after every epoch of `model.fit`.

        Training `data` with an `epoch` attribute (asmr_training.batches) is told each epoch as it begins,
        so its order depends on the epoch alone, not on how many epochs this process has run. The
        EarlyStopping callbacks `stoppers` get the finished epochs replayed as this process's first
        epoch begins (after their on_train_begin reset them).
        """
        import keras

        run = self
        pending = list(stoppers)  # replayed once, as the first epoch begins

        class _RunCheckpoint(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if hasattr(data, "epoch"):
                    data.epoch = epoch
                if pending:
                    run._replay(pending, self.model)
                    pending.clear()

            def on_epoch_end(self, epoch, logs=None):
                run.end_epoch(epoch, logs or {}, self.model)

        return _RunCheckpoint()

    def fit(self, model, train, epochs: int, validation_data=None, callbacks=(), trainer=None, restore_scope=None,
            **kwargs):
        """`model.fit` from the saved epoch on, continuing from the checkpoint when resuming.

        `trainer(model, train, **fit_arguments)`, when given, runs instead of `model.fit`, and the checkpoint
        is loaded inside `restore_scope()` (the multi-worker loop of asmr_training.distribute and its strategy).

        Keras's batch shuffle is off unless asked for: it draws from Python's global generator, which a
        resumed process does not share; the order comes from the data itself (asmr_training.batches).
        """
        import keras

        scope = restore_scope or contextlib.nullcontext
        with scope():
            model = self.restore(model)
        stoppers = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
        if self.initial_epoch >= epochs:
            return model
        if stoppers and self.initial_epoch:
            for stopper in stoppers:
                stopper.on_train_begin()
            if self._replay(stoppers, model):  # early stopping ended this run before it was interrupted
                return model
        with scope():
            build_before_tracing(model, train, kwargs.get("y"))
        fit = model.fit if trainer is None else functools.partial(trainer, model)
        fit(
            train,
            epochs=epochs,
            initial_epoch=self.initial_epoch,
            validation_data=validation_data,
            callbacks=[self.callback(train, stoppers), *callbacks],
            **{"shuffle": False, **kwargs},
        )
        return model
