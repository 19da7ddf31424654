"""Training one classifier into a run folder, resumable, ending with test metrics and figures.

The run folder (asmr_training.run_dir.RunDir) gets best.keras / last.keras / history.csv / params.json,
then metrics.json, confusion.png and curves.png. params.json also records the classes, the input
kind, the window length and whether the data was the generated corpus, which `predict` and
`catalog` read back. A split that would make the test numbers meaningless is refused up front
(`--allow-degenerate` runs it, the warning printed beside every number); slice classifiers are
also scored per clip.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import keras

from asmr_classify import models, report
from asmr_classify.data import Corpus, load_corpus, tf_dataset
from asmr_classify.params import model_kwargs, params_for
from asmr_training import distribute
from asmr_training.batches import ShuffledBatches
from asmr_training.model_files import load_model
from asmr_training.run_dir import RunDir
from audioprep.datasets import ReadOptions, add_read_flags, read_options
from audioprep.errors import UsageError
from audioprep.files import write_json


def train_classifier(
    name: str,
    data_root=None,
    out="runs/classifier",
    epochs: int | None = None,
    resume: bool = False,
    seed: int = 0,
    *,
    split_seed: int = 0,
    max_slices_per_file: int | None = None,
    corpus: Corpus | None = None,
    options: ReadOptions = ReadOptions(),
    test_fold: int | None = None,
    val_fold: int | None = None,
    allow_degenerate: bool = False,
    distribution: distribute.Distribution | None = None,
    callbacks=(),
    verbose="auto",
    **overrides,
) -> Path:
    """Train model `name` on `data_root` (None: the generated default corpus) into the folder `out`.

    `overrides` replace `ClassifierParams` fields (filters, dropout, optimizer, batch_size, ...).
    `seed` seeds weights and the per-epoch shuffle (so `resume` continues exactly); `split_seed` the
    source-grouped split; `options`, `test_fold`, `val_fold` as in `load_corpus`. A degenerate split
    (see `audioprep.slices.split_problems`) raises UsageError unless `allow_degenerate`. Returns the run folder.
    """
    params = params_for(name, **overrides, **({"epochs": epochs} if epochs is not None else {}))
    dist = distribution or distribute.Distribution()
    dist.check_batch(params.batch_size)
    run = RunDir(out, resume=resume, monitor="val_loss", mode="min", chief=dist.chief)  # checked before any work
    keras.utils.set_random_seed(seed)
    corpus = corpus or load_corpus(name, data_root, seed=split_seed, max_slices_per_file=max_slices_per_file,
                                   options=options, test_fold=test_fold, val_fold=val_fold)
    train, val = corpus.splits["train"], corpus.splits["val"]
    if len(train) == 0:
        raise UsageError(f"{corpus.root}: no training inputs could be made for --model {name}")
    warning = corpus.check(allow_degenerate)
    if warning and verbose != 0:
        print(f"warning: {warning}", file=sys.stderr)
    if not len(val):
        run.monitor = "loss"
    model = dist.build(lambda: models.build(name, input_shape=train.x.shape[1:], num_classes=len(corpus.classes),
                                            **model_kwargs(params)))
    with dist.scope():
        models.adapt(model, train.x)
    run.write_params(params, model=name, seed=seed, split_seed=split_seed, degenerate_split=warning,
                     distribute=dist.describe(params.batch_size), **corpus.describe())
    extra = [keras.callbacks.EarlyStopping(monitor=run.monitor, patience=params.patience)] if params.patience else []
    batches = ShuffledBatches(len(train), params.batch_size, lambda i: (train.x[i], train.y[i]), seed=seed)
    dist.fit(
        run,
        model,
        batches,
        params.epochs,
        validation_data=tf_dataset(val.x, val.y, params.batch_size) if len(val) else None,
        callbacks=[*extra, *callbacks],
        verbose=verbose,
    )
    if dist.chief:
        evaluate_run(run.path, corpus, title=name, show=verbose != 0, warning=warning)
    return run.path


def evaluate_run(run_path, corpus: Corpus, title: str = "", show: bool = True, warning: str | None = None) -> dict:
    """Best model on the test split, per input and per clip: metrics.json, confusion.png, curves.png in the
    run folder. `warning` (a degenerate split's) is stored with the metrics and printed beside them."""
    run_path = Path(run_path)
    model = load_model(run_path, compile=False)  # inference only (a mixed-precision optimizer needs its policy)
    test = corpus.splits["test"]
    probs = model.predict(test.x, verbose=0) if len(test) else None
    result = report.metrics(test.y, probs.argmax(axis=1) if probs is not None else test.y, corpus.classes)
    result["clip"] = report.clip_metrics(probs, test.y, test.files, corpus.classes) if probs is not None else None
    result["warning"] = warning
    write_json(run_path / "metrics.json", result)
    report.plot_confusion(result["confusion"], corpus.classes, run_path / "confusion.png")
    history = RunDir(run_path, resume=True).history()
    if history:
        report.plot_curves(history, run_path / "curves.png", title=title)
    if show:
        print(report.format_metrics(result))
    return result


def _flag_types() -> dict:
    """The argparse type of each ClassifierParams field's flag: its allowed range is checked while parsing."""
    from audioprep.cli import fraction, int_at_least, positive_float

    counts = {name: int_at_least(1) for name in ("filters", "kernel_size", "dense_units", "batch_size", "epochs")}
    return {**counts, "patience": int_at_least(0), "dropout": fraction, "learning_rate": positive_float}


def add_arguments(parser) -> None:
    """`train` flags: the DESIGN.md conventions plus one flag per ClassifierParams field."""
    from audioprep.cli import existing_path, int_at_least

    parser.add_argument("--model", required=True, choices=models.NAMES)
    parser.add_argument("--data", type=existing_path, help="dataset folder (default: the generated corpus)")
    parser.add_argument("--out", type=Path, help="run folder (default: runs/<model>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling seed")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the source-grouped split")
    parser.add_argument("--max-slices-per-file", type=int_at_least(1), help="cap on ~1 s slices taken from one recording")
    add_read_flags(parser)
    distribute.add_arguments(parser)
    parser.add_argument("--test-fold", type=int_at_least(1), help="ESC-50: the test fold (default 1; train on the others)")
    parser.add_argument("--val-fold", type=int_at_least(1), help="ESC-50: a validation fold (default: none)")
    parser.add_argument("--allow-degenerate", action="store_true", help="run a split that lacks a class in validation "
                        "or test, or tests one class (refused by default); a warning is printed beside every number")
    types = _flag_types()
    for field in dataclasses.fields(params_for("deepasmr")):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=types.get(field.name, str), dest=field.name,
                            help=f"(default: the model's, e.g. {field.default})")


def main(args) -> int:
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(params_for(args.model))}
    out = args.out or Path("runs") / args.model
    path = train_classifier(args.model, args.data, out, resume=args.resume, seed=args.seed,
                            split_seed=args.split_seed, max_slices_per_file=args.max_slices_per_file,
                            options=read_options(args), test_fold=args.test_fold, val_fold=args.val_fold,
                            allow_degenerate=args.allow_degenerate, distribution=distribute.from_args(args),
                            **overrides)
    print(f"run folder: {path}")
    return 0
