"""Talos hyper-parameter sweeps (DeepASMR tuned (f) with Talos), from a YAML grid.

The YAML holds `params` (a list of values per ClassifierParams field) and optionally `epochs`,
`round_limit` (how many grid points Talos samples), `seed` and `max_slices_per_file`. Every trial
trains on the source-grouped train split and is scored on the validation split; the table of all
trials is written as CSV and Markdown, and the best row is printed as `train` flags.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import yaml

from asmr_classify import models
from asmr_classify.data import load_corpus
from asmr_classify.params import MODEL_FIELDS, ClassifierParams, params_for
from asmr_training.run_dir import build_before_tracing
from audioprep.errors import UsageError
from audioprep.files import write_json
from audioprep.report import markdown_table

DEFAULT_GRID = Path(__file__).with_name("sweep_default.yaml")
SCORE = "val_accuracy"


def read_grid(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such sweep file")
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not valid YAML ({err})") from err
    grid = spec.get("params")
    if not isinstance(grid, dict) or not grid:
        raise UsageError(f"{path}: needs a non-empty 'params' mapping of hyper-parameter -> list of values")
    known = {f.name for f in dataclasses.fields(ClassifierParams)} - {"epochs", "patience"}
    unknown = sorted(set(grid) - known)
    if unknown:
        raise UsageError(f"{path}: unknown hyper-parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    spec["params"] = {k: v if isinstance(v, list) else [v] for k, v in grid.items()}
    return spec


def as_train_flags(name: str, row: dict, epochs: int | None = None) -> str:
    flags = [f"--{k.replace('_', '-')} {row[k]}" for k in row]
    if epochs:
        flags.append(f"--epochs {epochs}")
    return f"python -m asmr_classify train --model {name} " + " ".join(flags)


def run_sweep(name: str, grid_file=DEFAULT_GRID, data=None, out="runs/sweep", epochs: int | None = None,
              round_limit: int | None = None, seed: int | None = None, progress: bool = True):
    """Run the Talos scan; returns (results DataFrame sorted best first, best row as a dict)."""
    import keras
    import talos

    spec = read_grid(grid_file)
    grid = spec["params"]
    epochs = epochs or int(spec.get("epochs", 5))
    round_limit = round_limit or spec.get("round_limit")
    seed = int(spec.get("seed", 0) if seed is None else seed)
    corpus = load_corpus(name, data, seed=0, max_slices_per_file=spec.get("max_slices_per_file"))
    train, val = corpus.splits["train"], corpus.splits["val"]
    if len(train) == 0 or len(val) == 0:
        raise UsageError(f"{corpus.root}: a sweep needs training and validation inputs (too few recordings?)")
    base = params_for(name)

    def trial(x_train, y_train, x_val, y_val, p):
        hp = dataclasses.replace(base, **p)
        keras.utils.set_random_seed(seed)  # every trial starts from the same seed: a fair comparison
        model = models.build(name, x_train.shape[1:], len(corpus.classes), **{k: getattr(hp, k) for k in MODEL_FIELDS})
        models.adapt(model, x_train)
        build_before_tracing(model, x_train, y_train)
        history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                            batch_size=hp.batch_size, verbose=0)
        return history, model

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scan = talos.Scan(
        x=train.x, y=train.y, x_val=val.x, y_val=val.y, params=grid, model=trial,
        experiment_name=str((out / "talos").resolve()), round_limit=round_limit, seed=seed,
        reduction_metric=SCORE, save_weights=False, disable_progress_bar=not progress,
    )
    table = scan.data.copy()
    keep = [*grid, SCORE, "val_loss", "accuracy", "loss", "duration"]
    table = table[[c for c in keep if c in table.columns]]
    table = table.sort_values([SCORE, "val_loss"], ascending=[False, True]).reset_index(drop=True)
    best = {k: _plain(table.loc[0, k]) for k in grid}
    table.to_csv(out / "results.csv", index=False)
    rows = [[_plain(v) for v in row] for row in table.itertuples(index=False)]
    (out / "results.md").write_text(markdown_table(list(table.columns), rows) + "\n")
    write_json(out / "best.json", {"model": name, "best": best, "score": {SCORE: float(table.loc[0, SCORE])},
                                   "grid": grid, "epochs": epochs, "round_limit": round_limit, "seed": seed,
                                   "data": corpus.describe()})
    return table, best


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def add_arguments(parser) -> None:
    from audioprep.cli import existing_path, int_at_least

    parser.add_argument("--model", default="deepasmr", choices=models.NAMES)
    parser.add_argument("--params", type=existing_path, default=DEFAULT_GRID, help="YAML grid (default: sweep_default.yaml)")
    parser.add_argument("--data", type=existing_path, help="dataset folder (default: the generated corpus)")
    parser.add_argument("--out", type=Path, help="results folder (default: runs/sweep-<model>)")
    parser.add_argument("--epochs", type=int_at_least(1), help="epochs per trial (default: the YAML's)")
    parser.add_argument("--round-limit", type=int_at_least(1), help="trials to sample from the grid (default: the YAML's)")
    parser.add_argument("--seed", type=int, help="sampling and weights seed (default: the YAML's)")


def main(args) -> int:
    table, best = run_sweep(args.model, args.params, args.data, args.out or Path("runs") / f"sweep-{args.model}",
                            args.epochs, args.round_limit, args.seed)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nbest {SCORE} {table.loc[0, SCORE]:.4f}; train it with:")
    print(as_train_flags(args.model, best))
    return 0
