"""Starting a run, the one way every trainer does: `with start_run(spec, params, ...) as run:`.

In this order, before any data is read: the params' ranges, the folder against `--resume`, no live
writer in it, and for a resume that the asked settings are the recorded run's (asmr_training.run_record);
then the distribution and its batch check, the folder's lock (the chief's, for the run's whole life),
the run folder itself (state.json checked field by field) and the global seed. Every trainer returns a
`RunResult`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asmr_training import distribute
from asmr_training.run_dir import PARAMS, RunDir, check_run_folder
from asmr_training.run_lock import RunLock, live_holder
from asmr_training.run_record import check_same_run, read_record, record_growth, write_record
from asmr_training.run_spec import FOLDED, RunSpec, field_names
from audioprep.files import read_json, to_jsonable, write_json


@dataclass(frozen=True)
class RunResult:
    """What every trainer returns: its run folder, the params it trained with, the trained model (LEAN: its
    best checkpoint, which it is judged by; the others: as the last epoch left it), the test metrics it
    computed (empty where it computes none) and the data it trained on."""

    path: Path
    params: object
    model: object
    metrics: dict = field(default_factory=dict)
    data: object = None


@dataclass
class Run:
    """A started run: its spec and params as resolved (a resume's recorded values), the trainer's settings,
    the distribution and the run folder."""

    spec: RunSpec
    params: object
    settings: dict
    dist: distribute.Distribution
    dir: RunDir

    @property
    def path(self) -> Path:
        return self.dir.path

    def describe(self, classes=None, **described) -> None:
        """Write a new run's params.json (a resumed run keeps the one it started with)."""
        if self.spec.resume or not self.dist.chief:
            return
        write_record(self.path, self.params, {**_spec_settings(self.spec), **self.settings}, classes,
                     **described, distribute=self.dist.describe(self.params.batch_size))

    def record_outputs(self, **outputs) -> None:
        """Add what training found (not a setting: a resume never compares it) to params.json, on the chief."""
        if self.dist.chief:
            write_json(self.path / PARAMS, {**read_json(self.path / PARAMS), **to_jsonable(outputs)})

    def result(self, model, metrics: dict | None = None, data=None) -> RunResult:
        return RunResult(self.path, self.params, model, metrics or {}, data)


def _spec_settings(spec: RunSpec) -> dict:
    data = None if spec.data is None else str(spec.data.resolve())
    return {"seed": spec.seed, "data": data, "max_per_file": spec.max_per_file,
            "mixed_precision": spec.distribute.mixed_precision}


def _fold(spec: RunSpec, params):
    """`params` with the spec's given epochs / seed / cap in the fields of the same name it has."""
    given = {name: getattr(spec, name) for name in FOLDED if getattr(spec, name) is not None}
    return dataclasses.replace(params, **{k: v for k, v in given.items() if k in field_names(params)})


def check_run(spec: RunSpec, params, settings: dict | None = None, check: Callable | None = None,
              chief: bool = True):
    """Everything about a run that can be checked before its data is read; returns the resolved
    (spec, params, settings) and, for a resume, the run's record.

    A CLI that must read data before its trainer starts the run (LEAN's stand-in YAMNet) calls this first.
    `check(params)` raises UsageError for a value out of range; `settings` are the trainer's own (model
    kind, split seed, ...), None meaning "not asked": a resume's recorded value. A worker that is not the
    chief does not look at the lock (the chief holds it).
    """
    settings = dict(settings or {})
    params = _fold(spec, params)
    if check is not None:
        check(params)
    check_run_folder(spec.out, spec.resume)
    if chief:
        live_holder(spec.out)
    if not spec.resume:
        seed = getattr(params, "seed", 0) if spec.seed is None else spec.seed
        return dataclasses.replace(spec, seed=seed), params, settings, None
    record = read_record(spec.out)
    asked = {**_spec_settings(spec), **settings}
    check_same_run(spec.out, record, asked, to_jsonable(params))
    data = record["data"]
    spec = dataclasses.replace(spec, seed=record["seed"], max_per_file=record["max_per_file"],
                               data=None if data is None else Path(data))
    settings = {name: record.get(name) if value is None else value for name, value in settings.items()}
    return spec, params, settings, record


@contextlib.contextmanager
def start_run(spec: RunSpec, params, *, monitor: str = "val_loss", mode: str = "min", settings: dict | None = None,
              check: Callable | None = None):
    """The started `Run`, its folder locked by this process (the chief) until the block ends."""
    import keras

    dist = distribute.distribution(spec.distribute)
    spec, params, settings, record = check_run(spec, params, settings, check, chief=dist.chief)
    dist.check_batch(params.batch_size)
    with RunLock(spec.out) if dist.chief else contextlib.nullcontext():
        run_dir = RunDir(spec.out, resume=spec.resume, monitor=monitor, mode=mode, chief=dist.chief)
        if record is not None and dist.chief and hasattr(params, "epochs"):
            record_growth(spec.out, record, params.epochs, run_dir.initial_epoch)
        keras.utils.set_random_seed(spec.seed)
        yield Run(spec, params, settings, dist, run_dir)

