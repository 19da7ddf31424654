"""Training one classifier into a run folder, resumable, ending with test metrics and figures.

The run folder (asmr_training.run_dir.RunDir) gets best.keras / last.keras / history.csv / params.json,
then metrics.json, confusion.png and curves.png. params.json also records the classes, the input
kind, the window length and whether the data was the generated corpus, which `predict` and
`catalog` read back. A split that would make the test numbers meaningless is refused up front
(`--allow-degenerate` runs it, the warning printed beside every number); slice classifiers are
also scored per clip.

The YAMNet family (`train_yamnet`, asmr_classify.yamnet_head) starts through the same contract: YAMNet's
embeddings of the data's windows are computed once and cached (asmr_classify.embeddings), the head trains
on them in seconds and is committed as the run's one checkpoint, joined to YAMNet: best.keras takes raw
16 kHz windows like any "audio" classifier. Per-epoch curves come from the head's fit.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

import keras

from asmr_audioset.abstain import calibration
from asmr_classify import models, report, yamnet_head
from asmr_classify.data import Corpus, embedding_corpus, load_corpus, tf_dataset
from asmr_classify.embeddings import EmbeddingCache
from asmr_classify.params import (
    DEFAULTS,
    YAMNET_HEAD,
    ClassifierParams,
    YamnetHeadParams,
    model_kwargs,
    params_for,
)
from asmr_training.batches import ShuffledBatches
from asmr_training.model_files import load_model
from asmr_training.run_dir import read_history
from asmr_training.run_record import recorded_params
from asmr_training.run_spec import (
    RunSpec,
    add_run_arguments,
    as_flag,
    check_fields,
    one_of,
    spec_from_args,
)
from asmr_training.start import RunResult, start_run
from audioprep.datasets import ReadOptions, add_read_flags, read_options
from audioprep.errors import UsageError
from audioprep.files import write_json

YAMNET = yamnet_head.NAME
MODELS = (*models.NAMES, YAMNET)
ALIASES = {"lin": "lin_conv1d"}  # `train --model lin`
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
    positive: str | None = None,
    allow_degenerate: bool = False,
    callbacks=(),
    verbose="auto",
    **overrides,
) -> RunResult:
    """Train model `name` as `spec` says (`spec.data` None: the generated default corpus) into `spec.out`.

    `overrides` replace `ClassifierParams` fields (filters, dropout, optimizer, batch_size, ...) of the model's
    defaults, or of the run's recorded params when resuming. `spec.seed` seeds weights and the per-epoch shuffle
    (so a resume continues exactly); `split_seed` the source-grouped split; `spec.max_per_file` caps the
    slices per recording; `options`, `test_fold`, `val_fold`, `positive` as in `load_corpus`. A degenerate split (see
    `audioprep.slices.split_problems`) raises UsageError unless `allow_degenerate`. The metrics are the test split's.
    """
    base = params_for(name, **overrides)  # unknown names are refused here
    if spec.resume:  # what is not asked for again is the run's own
        asked = {k: v for k, v in overrides.items() if v is not None}
        base = params_for(name, **{**dataclasses.asdict(recorded_params(spec.out, DEFAULTS[name])), **asked})
    settings = _settings(name, split_seed, test_fold, val_fold, options, positive)
    with start_run(spec, base, settings=settings, check=check_params) as run:
        params, spec = run.params, run.spec
        corpus = corpus or load_corpus(name, spec.data, seed=split_seed, max_slices_per_file=spec.max_per_file,
                                       options=options, test_fold=test_fold, val_fold=val_fold, positive=positive)
        train, val = corpus.splits["train"], corpus.splits["val"]
        warning = _checked_splits(corpus, run, f"inputs could be made for --model {name}", allow_degenerate, verbose)
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
        metrics = {}
        if dist.chief:
            best = load_model(run.path, compile=False)  # inference only (a mixed-precision optimizer needs its policy)
            record_abstain(run, best, val)
            metrics = evaluate_run(run.path, corpus, title=name, show=verbose != 0, warning=warning, model=best)
        return run.result(model, metrics, corpus)


def _settings(name: str, split_seed: int, test_fold, val_fold, options: ReadOptions, positive) -> dict:
    """The trainer's own settings, recorded in params.json (and compared on --resume)."""
    return {"model": name, "split_seed": split_seed, "test_fold": test_fold, "val_fold": val_fold,
            "read_options": dataclasses.asdict(options), "positive": positive}


def _check_yamnet_spec(spec: RunSpec) -> None:
    """What the YAMNet family does not do: its head trains in seconds on one device, so it neither resumes nor
    distributes."""
    if spec.resume:
        raise UsageError(f"--resume: --model {YAMNET} trains its head in seconds from cached embeddings and has "
                         "nothing to continue; drop --resume and train afresh into another --out")
    if spec.distribute.strategy != "default":
        raise UsageError(f"--strategy {spec.distribute.strategy}: --model {YAMNET} trains a small head on one "
                         "device; drop --strategy")
    if spec.distribute.mixed_precision:
        raise UsageError(f"--mixed-precision: --model {YAMNET} trains a small head in float32; drop --mixed-precision")


def yamnet_params(**overrides) -> YamnetHeadParams:
    """The family's defaults with `overrides` applied (None: the default; unknown names refused in one line)."""
    known = {f.name for f in dataclasses.fields(YamnetHeadParams)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise UsageError(f"{YAMNET}: unknown hyper-parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return dataclasses.replace(YAMNET_HEAD, **{k: v for k, v in overrides.items() if v is not None})


def train_yamnet(
    spec: RunSpec,
    *,
    split_seed: int = 0,
    options: ReadOptions = ReadOptions(),
    test_fold: int | None = None,
    val_fold: int | None = None,
    positive: str | None = None,
    allow_degenerate: bool = False,
    verbose="auto",
    **overrides,
) -> RunResult:
    """The YAMNet family trained as `spec` says into `spec.out`: YAMNet's embeddings of the data's windows
    (cached by file content; `spec.max_per_file` caps the windows per recording), the head fitted on them
    until the validation loss stops improving, and best.keras = YAMNet + the head's best epoch.

    `overrides` replace `YamnetHeadParams` fields; the data arguments are `train_classifier`'s. params.json
    also records the YAMNet weights (`yamnet`), the epochs the head ran and kept, and `embedded_files`: the
    recordings this run had to put through YAMNet (0 when every one was cached)."""
    _check_yamnet_spec(spec)
    base = yamnet_params(**overrides)
    settings = _settings(YAMNET, split_seed, test_fold, val_fold, options, positive)
    with start_run(spec, base, settings=settings, check=check_yamnet_params) as run:
        params, spec = run.params, run.spec
        embed = EmbeddingCache(params)
        corpus = embedding_corpus(spec.data, embed, seed=split_seed, max_windows_per_file=spec.max_per_file,
                                  options=options, test_fold=test_fold, val_fold=val_fold, positive=positive)
        train, val = corpus.splits["train"], corpus.splits["val"]
        warning = _checked_splits(corpus, run, f"windows could be made for --model {YAMNET}", allow_degenerate, verbose)
        head = yamnet_head.build_head(len(corpus.classes), params)
        fit = yamnet_head.fit_head(head, train, val, corpus.classes, params, verbose)
        if not fit.converged:
            print(f"warning: {fit.describe()}", file=sys.stderr)
        elif verbose != 0:
            print(fit.describe())
        model = yamnet_head.waveform_model(embed.embedder, head)
        run.describe(degenerate_split=warning, yamnet=embed.weights, embedded_files=embed.computed,
                     head={"solver": fit.solver, "steps": fit.steps, "converged": fit.converged,
                           "best_epoch": fit.best_epoch}, **corpus.describe())
        logs = {**yamnet_head.split_scores(head, train), **yamnet_head.split_scores(head, val, "val_")}
        run.dir.end_epoch(0, logs, model)  # the run's one checkpoint: YAMNet + the fitted head
        record_abstain(run, head, val)
        metrics = evaluate_run(run.path, corpus, title=YAMNET, show=verbose != 0, warning=warning, model=head,
                               history=fit.history)
        return run.result(model, metrics, corpus)


def _checked_splits(corpus, run, what: str, allow_degenerate: bool, verbose) -> str | None:
    """Refuse an empty training split, warn of (or refuse) a degenerate one; without validation data the run
    keeps its lowest-training-loss epoch. Returns the degenerate split's warning, if any."""
    if len(corpus.splits["train"]) == 0:
        raise UsageError(f"{corpus.root}: no training {what}")
    warning = corpus.check(allow_degenerate)
    if warning and verbose != 0:
        print(f"warning: {warning}", file=sys.stderr)
    if not len(corpus.splits["val"]):
        run.dir.monitor = "loss"
    return warning


def record_abstain(run, model, val) -> None:
    """Calibrate "none of these" on the validation inputs and record it in params.json (predict reads it)."""
    if len(val):
        run.record_outputs(**calibration(model.predict(val.x, verbose=0), val.y))


def evaluate_run(run_path, corpus: Corpus, title: str = "", show: bool = True, warning: str | None = None,
                 model=None, history: list[dict] | None = None) -> dict:
    """Best model on the test split, per input and per clip: metrics.json, confusion.png, curves.png in the
    run folder. `warning` (a degenerate split's) is stored with the metrics and printed beside them. `model`
    scores the corpus's inputs instead of the run's best.keras (the YAMNet family's head, on embeddings), and
    `history` gives the curves instead of the run's history."""
    run_path = Path(run_path)
    if model is None:
        model = load_model(run_path, compile=False)  # inference only (a mixed-precision optimizer needs its policy)
    test = corpus.splits["test"]
    probs = model.predict(test.x, verbose=0) if len(test) else None
    result = report.metrics(test.y, probs.argmax(axis=1) if probs is not None else test.y, corpus.classes)
    result["clip"] = report.clip_metrics(probs, test.y, test.files, corpus.classes) if probs is not None else None
    result["warning"] = warning
    write_json(run_path / "metrics.json", result)
    report.plot_confusion(result["confusion"], corpus.classes, run_path / "confusion.png")
    history = read_history(run_path) if history is None else history
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


def _hop(value: str) -> float:
    """`--hop-seconds`: YAMNet's windows must touch or overlap, so every moment is embedded."""
    import argparse

    from audioprep.cli import positive_float

    hop, longest = positive_float(value), yamnet_head.WINDOW / yamnet_head.SAMPLE_RATE
    if hop > longest:
        raise argparse.ArgumentTypeError(f"must be at most the window, {longest:g} s, not {value}")
    return hop


def _yamnet_rules() -> dict:
    from audioprep.cli import fraction, int_at_least, positive_float

    return {"hidden_units": int_at_least(0), "dropout": fraction, "l2": positive_float,
            "learning_rate": positive_float, "batch_size": int_at_least(1), "epochs": int_at_least(1),
            "patience": int_at_least(0), "hop_seconds": _hop}


def check_yamnet_params(params) -> None:
    check_fields(params, _yamnet_rules(), as_flag)


FAMILY_FIELDS = {family: [f.name for f in dataclasses.fields(family) if f.name != "epochs"]
                 for family in (ClassifierParams, YamnetHeadParams)}


def _family(name: str) -> type:
    return YamnetHeadParams if name == YAMNET else ClassifierParams


def add_arguments(parser) -> None:
    """`train` flags: the run contract's (asmr_training.run_spec) plus one flag per field of ClassifierParams and
    YamnetHeadParams (each model takes its own family's)."""
    from audioprep.cli import int_at_least

    parser.add_argument("--model", required=True, choices=(*MODELS, *ALIASES),
                        help=f"a classifier, or {YAMNET}: YAMNet's embeddings under a small head ("
                             + ", ".join(f"{alias}: {name}" for alias, name in ALIASES.items()) + ")")
    add_run_arguments(parser, out_help="run folder (default: runs/<model>)",
                      cap=("--max-slices-per-file", "cap on ~1 s slices taken from one recording"))
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the source-grouped split")
    add_read_flags(parser)
    parser.add_argument("--test-fold", type=int_at_least(1), help="ESC-50: the test fold (default 1; train on the others)")
    parser.add_argument("--val-fold", type=int_at_least(1), help="ESC-50: a validation fold (default: none)")
    parser.add_argument("--allow-degenerate", action="store_true", help="run a split that lacks a class in validation "
                        "or test, or tests one class (refused by default); a warning is printed beside every number")
    parser.add_argument("--positive", metavar="LABEL", help="ASMR vs speech from plain folders: this label folder's "
                        "recordings are asmr, every other folder's speech (--model lin_conv1d and yamnet; default: "
                        "the folders' own labels)")
    rules = {**_rules(), **_yamnet_rules()}
    classifier, yamnet = dataclasses.asdict(params_for("deepasmr")), dataclasses.asdict(YAMNET_HEAD)
    for name in dict.fromkeys(FAMILY_FIELDS[ClassifierParams] + FAMILY_FIELDS[YamnetHeadParams]):
        shown = [f"the model's, e.g. {classifier[name]}"] if name in classifier else []
        shown += [f"{YAMNET}: {yamnet[name]}"] if name in yamnet else []
        parser.add_argument(f"--{name.replace('_', '-')}", type=rules.get(name, str), dest=name,
                            help=f"(default: {'; '.join(shown)})")


def _overrides(args, name: str) -> dict:
    """The chosen model's hyper-parameter flags; a flag of the other family is refused in one line."""
    own = FAMILY_FIELDS[_family(name)]
    foreign = [f"--{field.replace('_', '-')}" for names in FAMILY_FIELDS.values() for field in names
               if field not in own and getattr(args, field, None) is not None]
    if foreign:
        raise UsageError(f"{', '.join(dict.fromkeys(foreign))}: not a setting of --model {args.model}; drop "
                         f"{' and '.join(dict.fromkeys(foreign))}")
    return {field: getattr(args, field) for field in own}


def main(args) -> int:
    name = ALIASES.get(args.model, args.model)
    overrides = _overrides(args, name)
    spec = spec_from_args(args, out=Path("runs") / name)
    data = dict(split_seed=args.split_seed, options=read_options(args), test_fold=args.test_fold,
                val_fold=args.val_fold, positive=args.positive, allow_degenerate=args.allow_degenerate)
    trainer = train_yamnet if name == YAMNET else functools.partial(train_classifier, name)
    result = trainer(spec, **data, **overrides)
    print(f"run folder: {result.path}")
    return 0
