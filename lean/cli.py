"""The flags (`*_arguments`) and handlers (`cmd_*`) of `python -m lean`'s commands (declared in lean/__main__.py)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from asmr_training.run_spec import add_run_arguments, spec_from_args
from audioprep.cli import check_top, existing_path, int_at_least
from audioprep.errors import UsageError
from lean.budget import FULL, QUICK
from lean.params import YAMNET_HELP, LeanParams


def _load(root, params: LeanParams, splits, options, test_fold, val_fold, max_clips=None):
    from lean.data import load_data

    data = load_data(root, params, splits=splits, options=options, test_fold=test_fold, val_fold=val_fold,
                     max_clips=max_clips)
    print(data.report, file=sys.stderr)
    return data


def _root(args, size: str = "default"):
    """--data's dataset folder, else the generated FSD50K corpus of `size` (made on first use)."""
    from asmr_corpus.location import layout_dir

    return layout_dir("fsd50k", args.data, size=size)


def _data(args, params: LeanParams, splits):
    from audioprep.datasets import read_options

    return _load(_root(args), params, splits, read_options(args), args.test_fold, args.val_fold)


# LeanParams fields a `train` flag sets: (flag, help); the flag's value replaces the field, its range is lean.train.RULES.
PARAM_FLAGS = {
    "batch_size": ("--batch-size", None),
    "learning_rate": ("--learning-rate", None),
    "max_patches_per_clip": ("--max-patches-per-clip", "cap 1 s patches taken from one clip"),
    "spec_time_masks": ("--spec-time-masks", "SpecAugment time masks per 1 s patch (default 0: off)"),
    "spec_time_mask_frames": ("--spec-time-mask-frames", "widest time mask, under the patch's 96 frames (default 16)"),
    "spec_freq_masks": ("--spec-freq-masks", "SpecAugment frequency masks per patch (default 0: off)"),
    "spec_freq_mask_bands": ("--spec-freq-mask-bands", "widest frequency mask, under the 64 bands (default 8)"),
    "mixup_alpha": ("--mixup", "mixup with a Beta(ALPHA, ALPHA) weight (default: off)"),
    "gain_db": ("--gain-db", "random gain within +-DB (default: off)"),
    "time_shift": ("--time-shift", "circular shift by up to this fraction of the patch (default: off)"),
}


def _params(args, spec) -> LeanParams:
    """The flags' LeanParams: over the defaults, or over a resumed run's own params."""
    from asmr_training.run_record import recorded_params

    base = recorded_params(spec.out, LeanParams()) if spec.resume else LeanParams()
    if args.quick and not spec.resume:
        base = dataclasses.replace(base, epochs=QUICK.epochs, max_patches_per_clip=QUICK.max_patches_per_clip)
    overrides = {field: getattr(args, field) for field in PARAM_FLAGS if getattr(args, field, None) is not None}
    return dataclasses.replace(base, **overrides)


def cmd_train(args) -> int:
    from asmr_training.start import check_run
    from audioprep.datasets import detect_layout, read_options
    from lean.pretrain import backbone
    from lean.run_data import split_record
    from lean.train import check_params, format_held_out, train_variant
    from lean.yamnet_weights import STANDIN

    if args.strategy == "multiworker" and args.yamnet == STANDIN:
        raise UsageError("--strategy multiworker --yamnet standin: the stand-in pretraining runs in one process; "
                         "pretrain it with --strategy default first and pass its .h5")
    spec = spec_from_args(args, out=Path("runs") / args.variant)
    # the run is checked before the data is read and the stand-in pretrained; its lock too, except by a multi-worker
    # run's workers, which do not know yet which of them is the chief that holds it
    spec, params, _, _ = check_run(spec, _params(args, spec), {"variant": args.variant, "yamnet": args.yamnet or "bundled"},
                                   check_params, chief=spec.distribute.strategy != "multiworker")
    budget = QUICK if args.quick else FULL
    root = _root(args, "quick" if args.quick else "default")
    max_clips = budget.max_clips if detect_layout(root) == "fsd50k" else None  # a labelled folder's files come by label
    options = read_options(args)
    data = _load(root, params, ("train", "val", "eval"), options, args.test_fold, args.val_fold, max_clips)
    yamnet, note = backbone(args.yamnet, data, params, args.pretrain_epochs or budget.pretrain_epochs)
    print(note, flush=True)
    described = {**split_record(options, args.test_fold, args.val_fold, max_clips), "quick": args.quick}
    result = train_variant(spec, params, args.variant, data, yamnet, shards=args.shards, described=described,
                           held_out=True)
    if result.metrics:  # the chief's
        print(format_held_out(result.metrics))
    print(f"best model: {result.path / 'best.keras'}")
    return 0


def cmd_prepare(args) -> int:
    from lean.prepare import SPLITS, main

    return main(_data(args, LeanParams(), SPLITS), args)


def cmd_evaluate(args) -> int:
    from audioprep.files import write_json
    from lean.evaluate import evaluate
    from lean.scoring import load_scorer

    params = LeanParams()
    scorer = load_scorer(args.model)
    data = _data(args, params, (args.split,))
    if data.vocabulary != scorer.labels:
        raise UsageError(f"--model {args.model}: its labels differ from the dataset's vocabulary")
    result = evaluate(scorer, data.splits[args.split], params)
    summary = {k: result[k] for k in ("accuracy", "macro_f1", "mAP", "mAUC", "dprime", "classes_scored") if k in result}
    if args.out:
        write_json(args.out, {"model": str(args.model), "split": args.split, **result, "labels": scorer.labels})
    if args.per_class:
        summary["per_class_ap"] = dict(zip(scorer.labels, result["per_class_ap"], strict=True))
    if args.json:
        print(json.dumps(summary))
        return 0
    print("  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items() if k != "per_class_ap"))
    for label, ap in summary.get("per_class_ap", {}).items():
        print(f"  {label:40s} {'-' if ap is None else f'{ap:.4f}'}")
    return 0


def _run_data(args, record: dict, params: LeanParams):
    """The held-out split (and for int8 the training split) of --data, else of the data the run recorded, read
    and split as training did; None (said on stderr) when there is none and int8 does not need it."""
    from audioprep.datasets import detect_layout, read_options
    from lean.run_data import recorded_root, recorded_split

    try:
        root = _root(args) if args.data is not None else recorded_root(args.model, record)
    except UsageError as err:
        if args.quantize == "int8":
            raise
        print(f"held-out scores skipped: {err}", file=sys.stderr)
        return None
    options, test_fold, val_fold = recorded_split(record, read_options(args), args.test_fold, args.val_fold)
    max_clips = dict(record.get("max_clips") or {})  # the training store the run decoded, the eval cap
    if detect_layout(root) == "fsd50k":
        max_clips["eval"] = min(max_clips.get("eval", args.eval_clips), args.eval_clips)
    splits = ("train", "eval") if args.quantize == "int8" else ("eval",)
    return _load(root, params, splits, options, test_fold, val_fold, max_clips)


def held_out_comparison(model, export_path, labels: list[str], data, params: LeanParams, quantize: str) -> str:
    """One line: the Keras model's and the export's held-out accuracy (single-label) or mAP, and the change."""
    from lean.evaluate import evaluate
    from lean.scoring import KerasScorer, TfliteScorer
    from lean.train import held_out_split

    clips = data.splits["eval"]
    where = f"held-out ({held_out_split(data)}, {len(clips)} clips)"
    if not len(clips):
        return f"{where}: nothing to score"
    try:
        keras_result = evaluate(KerasScorer(model, labels), clips, params)
        export_result = evaluate(TfliteScorer(export_path), clips, params)
    except ValueError as err:  # no class with both positive and negative clips
        return f"{where}: {err}"
    metric = "accuracy" if "accuracy" in keras_result else "mAP"
    before, after = keras_result[metric], export_result[metric]
    return f"{where}: Keras {metric} {before:.4f}, TFLite {quantize} {after:.4f} ({after - before:+.4f})"


def cmd_export(args) -> int:
    from asmr_training.model_files import load_model
    from lean.export import calibration_windows, export_tflite
    from lean.run_data import run_record, trained_on_generated
    from lean.scoring import read_labels

    params = LeanParams()
    model = load_model(args.model)
    labels = read_labels(args.model, int(model.outputs[0].shape[-1]))
    record = run_record(args.model)
    data = _run_data(args, record, params)
    if data is not None and data.vocabulary != labels:
        raise UsageError(f"--data {data.root}: its labels differ from the model's ({len(labels)} classes)")
    representative = None
    if args.quantize == "int8":
        representative = calibration_windows(data.splits["train"].clips, params, args.calibration)
    report = export_tflite(model, args.out, labels, args.quantize, representative, params,
                           generated=bool(trained_on_generated(args.model, record)))
    print(f"wrote {report['path']} ({report['bytes'] / 1e6:.2f} MB, {args.quantize}), labels and rate in its metadata")
    print(f"builtin ops only: {', '.join(report['ops'])}")
    print(f"max |TFLite - Keras| score on 4 probe windows: {report['max_abs_diff_vs_keras']:.2e}")
    if not report["parity_ok"]:
        print(f"warning: {report['path']}: float scores differ from Keras by more than 1e-5", file=sys.stderr)
    if data is not None:
        print(held_out_comparison(model, report["path"], labels, data, params, args.quantize))
    return 0


def cmd_tag(args) -> int:
    from asmr_audioset.abstain import stored_threshold
    from asmr_training.run_record import generated_corpus_warning
    from lean.run_data import trained_on_generated
    from lean.scoring import load_scorer
    from lean.tag import format_rows, format_summary, summarize, tag_file

    scorer = load_scorer(args.model, threads=args.threads)
    check_top(args.top, len(scorer.labels))
    if trained_on_generated(args.model):
        print(generated_corpus_warning(args.model), file=sys.stderr)
    rate = getattr(scorer, "sample_rate", None)  # an export's metadata carries its rate
    rows = tag_file(scorer, args.file, LeanParams(sample_rate=rate) if rate else LeanParams(), args.top,
                    stored_threshold(args.model), args.tags)
    summary = summarize(rows)
    if args.json:
        print(json.dumps({"file": str(args.file), "windows": rows, "summary": summary}, indent=1))
    else:
        print(format_rows(rows))
        print(format_summary(summary))
    return 0


def data_arguments(parser: argparse.ArgumentParser, data_help: str) -> None:
    """--data and how a labelled folder is read and split (FSD50K ignores the rest: it is read as published)."""
    parser.add_argument("--data", type=existing_path, help=data_help)
    read_arguments(parser)


def read_arguments(parser: argparse.ArgumentParser) -> None:
    """How a labelled folder is read and split."""
    from audioprep.datasets import add_read_flags

    add_read_flags(parser)
    parser.add_argument("--test-fold", type=int_at_least(1), help="ESC-50: the fold held out for testing (default 1)")
    parser.add_argument("--val-fold", type=int_at_least(1), help="ESC-50: a fold kept for validation "
                        "(default none: train on the other four, keep the epoch of best training PR-AUC)")


def train_arguments(train: argparse.ArgumentParser) -> None:
    from lean.model import VARIANTS
    from lean.train import RULES

    train.add_argument("--variant", choices=VARIANTS, default="lean")
    add_run_arguments(train, out_help="run folder (default: runs/VARIANT)",
                      data_help="FSD50K folder, or a labelled folder (<label>/*.wav, ESC-50) to fine-tune on "
                                "(default: the generated FSD50K corpus)")
    read_arguments(train)
    clips = "/".join(str(n) for n in QUICK.max_clips.values())
    train.add_argument("--quick", action="store_true", help=f"a first try in minutes: {QUICK.epochs} epochs on the first "
                       f"{QUICK.max_patches_per_clip} s of each clip, the stand-in YAMNet pretrained "
                       f"{QUICK.pretrain_epochs} epochs; FSD50K: its first {clips} train/val/eval clips, and without "
                       "--data the small generated quick corpus (data/quick/); flags given still win")
    train.add_argument("--yamnet", help=YAMNET_HELP)
    train.add_argument("--pretrain-epochs", type=int_at_least(1), help="epochs of the stand-in YAMNet pretraining "
                       f"(default {FULL.pretrain_epochs}; --quick: {QUICK.pretrain_epochs})")
    train.add_argument("--shards", type=existing_path, help="train on `lean prepare` shards of --data (read by file "
                       "on each worker) instead of the decoded store")
    for field, (flag, help_text) in PARAM_FLAGS.items():
        train.add_argument(flag, type=RULES[field], dest=field, help=help_text)


def prepare_arguments(prepare: argparse.ArgumentParser) -> None:
    from lean.prepare import add_arguments

    data_arguments(prepare, "FSD50K folder, or a labelled folder (<label>/*.wav, ESC-50) (default: the generated corpus)")
    add_arguments(prepare)


def evaluate_arguments(ev: argparse.ArgumentParser) -> None:
    ev.add_argument("--model", type=existing_path, required=True, help="run folder, .keras or .tflite")
    data_arguments(ev, "the dataset the model was trained on (default: the generated FSD50K corpus)")
    ev.add_argument("--split", choices=("eval", "val", "train"), default="eval")
    ev.add_argument("--out", type=Path, help="write the full result (per-class AP too) as JSON")
    ev.add_argument("--per-class", action="store_true", help="also print each class's AP")
    ev.add_argument("--json", action="store_true")


def export_arguments(ex: argparse.ArgumentParser) -> None:
    from asmr_tflite.export import QUANTIZE

    ex.add_argument("--model", type=existing_path, required=True)
    ex.add_argument("--quantize", choices=QUANTIZE, default="none")
    ex.add_argument("--out", type=Path, default=Path("lean.tflite"))
    data_arguments(ex, "the run's data moved elsewhere: int8 calibrates on its training split and the export is "
                       "scored on its held-out split (default: the data the run recorded; read and split as training "
                       "did)")
    ex.add_argument("--calibration", type=int_at_least(1), default=200, help="int8 calibration windows")
    ex.add_argument("--eval-clips", type=int_at_least(1), default=200,
                    help="FSD50K: score the Keras model and the export on the eval split's first N clips (default 200)")


def tag_arguments(tag: argparse.ArgumentParser) -> None:
    from asmr_audioset.params import TAGS

    tag.add_argument("file", type=existing_path)
    tag.add_argument("--model", type=existing_path, default=Path("lean.tflite"))
    tag.add_argument("--top", type=int_at_least(1), default=5, help="labels per window, 1..the model's classes")
    tag.add_argument("--threads", type=int_at_least(1), default=None)
    tag.add_argument("--json", action="store_true")
    tag.add_argument("--tags", type=int_at_least(1), default=TAGS.top,
                     help=f"YAMNet's top AudioSet classes per window (default {TAGS.top})")
    tag.add_argument("--no-tags", dest="tags", action="store_const", const=0, help="no AudioSet tags")
