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
from asmr_classify.params import DEFAULTS, model_kwargs, params_for
from asmr_training.batches import ShuffledBatches
from asmr_training.model_files import load_model
from asmr_training.run_dir import read_history, write_json
from asmr_training.run_record import recorded_params
from asmr_training.run_spec import RunSpec, add_run_arguments, as_flag, check_fields, one_of, spec_from_args
from asmr_training.start import RunResult, start_run
from audioprep.datasets import ReadOptions, add_read_flags, read_options
from audioprep.errors import UsageError

ACTIVATIONS = ("relu", "elu", "selu", "gelu", "silu", "swish", "tanh", "sigmoid", "softplus", "leaky_relu", "linear")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd", "adagrad", "adadelta", "adamax", "nadam")


def train_classifier(
    name: str,
    spec: RunSpec,
    *,
    split_seed: int = 0,
    corpus: Corpus | None = None,
    options: ReadOptions = ReadOptions(),
    test_fold: int | None = None,
    val_fold: int | None = None,
    allow_degenerate: bool = False,
    callbacks=(),
    verbose="auto",
    **overrides,
) -> RunResult:
    """Train model `name` as `spec` says (`spec.data` None: the generated default corpus) into `spec.out`.

    `overrides` replace `ClassifierParams` fields (filters, dropout, optimizer, batch_size, ...) of the model's
    defaults, or of the run's recorded params when resuming. `spec.seed` seeds weights and the per-epoch shuffle
    (so a resume continues exactly); `split_seed` the source-grouped split; `spec.max_per_file` caps the
    slices per recording; `options`, `test_fold`, `val_fold` as in `load_corpus`. A degenerate split (see
    `audioprep.slices.split_problems`) raises UsageError unless `allow_degenerate`. The metrics are the test split's.
    """
    base = params_for(name, **overrides)  # unknown names are refused here
    if spec.resume:  # what is not asked for again is the run's own
        asked = {k: v for k, v in overrides.items() if v is not None}
        base = params_for(name, **{**dataclasses.asdict(recorded_params(spec.out, DEFAULTS[name])), **asked})
    settings = {"model": name, "split_seed": split_seed, "test_fold": test_fold, "val_fold": val_fold,
                "read_options": dataclasses.asdict(options)}
    with start_run(spec, base, settings=settings, check=check_params) as run:
        params, spec = run.params, run.spec
        corpus = corpus or load_corpus(name, spec.data, seed=split_seed, max_slices_per_file=spec.max_per_file,
                                       options=options, test_fold=test_fold, val_fold=val_fold)
        train, val = corpus.splits["train"], corpus.splits["val"]
        if len(train) == 0:
            raise UsageError(f"{corpus.root}: no training inputs could be made for --model {name}")
        warning = corpus.check(allow_degenerate)
        if warning and verbose != 0:
            print(f"warning: {warning}", file=sys.stderr)
        if not len(val):
            run.dir.monitor = "loss"
        dist = run.dist
        model = dist.build(lambda: models.build(name, input_shape=train.x.shape[1:], num_classes=len(corpus.classes),
                                                **model_kwargs(params)))
        with dist.scope():
            models.adapt(model, train.x)
        run.describe(degenerate_split=warning, **corpus.describe())
        extra = [keras.callbacks.EarlyStopping(monitor=run.dir.monitor, patience=params.patience)] if params.patience else []
        batches = ShuffledBatches(len(train), params.batch_size, lambda i: (train.x[i], train.y[i]), seed=spec.seed)
        model = dist.fit(
            run.dir,
            model,
            batches,
            params.epochs,
            validation_data=tf_dataset(val.x, val.y, params.batch_size) if len(val) else None,
            callbacks=[*extra, *callbacks],
            verbose=verbose,
        )
        metrics = evaluate_run(run.path, corpus, title=name, show=verbose != 0, warning=warning) if dist.chief else {}
        return run.result(model, metrics, corpus)


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
    history = read_history(run_path)
    if history:
        report.plot_curves(history, run_path / "curves.png", title=title)
    if show:
        print(report.format_metrics(result))
    return result


def _rules() -> dict:
    """Each ClassifierParams field's allowed values, as the argparse type of its flag (checked while parsing)
    and on every params the trainer gets (checked before any data is read)."""
    from audioprep.cli import fraction, int_at_least, positive_float

    counts = {name: int_at_least(1) for name in ("filters", "kernel_size", "dense_units", "batch_size", "epochs")}
    return {**counts, "patience": int_at_least(0), "dropout": fraction, "learning_rate": positive_float,
            "activation": one_of(*ACTIVATIONS), "dense_activation": one_of(*ACTIVATIONS),
            "optimizer": one_of(*OPTIMIZERS)}


def check_params(params) -> None:
    check_fields(params, _rules(), as_flag)


def add_arguments(parser) -> None:
    """`train` flags: the run contract's (asmr_training.run_spec) plus one flag per ClassifierParams field."""
    from audioprep.cli import int_at_least

    parser.add_argument("--model", required=True, choices=models.NAMES)
    add_run_arguments(parser, out_help="run folder (default: runs/<model>)",
                      cap=("--max-slices-per-file", "cap on ~1 s slices taken from one recording"))
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the source-grouped split")
    add_read_flags(parser)
    parser.add_argument("--test-fold", type=int_at_least(1), help="ESC-50: the test fold (default 1; train on the others)")
    parser.add_argument("--val-fold", type=int_at_least(1), help="ESC-50: a validation fold (default: none)")
    parser.add_argument("--allow-degenerate", action="store_true", help="run a split that lacks a class in validation "
                        "or test, or tests one class (refused by default); a warning is printed beside every number")
    rules = _rules()
    for field in dataclasses.fields(params_for("deepasmr")):
        if field.name != "epochs":  # the run contract's flag
            parser.add_argument(f"--{field.name.replace('_', '-')}", type=rules.get(field.name, str), dest=field.name,
                                help=f"(default: the model's, e.g. {field.default})")


def main(args) -> int:
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(params_for(args.model)) if f.name != "epochs"}
    spec = spec_from_args(args, out=Path("runs") / args.model)
    result = train_classifier(args.model, spec, split_seed=args.split_seed, options=read_options(args),
                              test_fold=args.test_fold, val_fold=args.val_fold,
                              allow_degenerate=args.allow_degenerate, **overrides)
    print(f"run folder: {result.path}")
    return 0
