"""`python -m audioprep inspect DIR`: describe a dataset folder and name its unreadable files.

inspect names the layout, counts files, hours, clips and source recordings per class, prints the
label tree a trigger folder was read with, estimates the test-split size of each paper's task, warns
when the split would leave a label without a validation or test source, and names unreadable files,
recordings shorter than one example and byte-identical copies (exit status 0).
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from audioprep.cli import existing_path
from audioprep.datasets import (
    LABEL_DEPTH,
    LAYOUTS,
    ReadOptions,
    add_read_flags,
    check_examples,
    detect_layout,
    folds,
    label_tree,
    make_split,
    read_layout_with_duplicates,
    read_options,
)
from audioprep.params import MelSliceParams, MfccParams

# What one example of each layout's task is, in seconds (None: one example per file).
_SLICE_S = MelSliceParams().slice_samples / MelSliceParams().sample_rate
EXAMPLE_SECONDS = {"deepasmr": _SLICE_S, "adell": _SLICE_S, "asmr85": MfccParams().clip_seconds,
                   "commonvoice": None, "fsd50k": None, "esc50": None}


def _examples_per_file(layout: str, seconds: float) -> int:
    """Examples the trainers cut from a file: a file shorter than one is repeat-padded to one."""
    step = EXAMPLE_SECONDS[layout]
    return 1 if step is None else max(1, int(seconds // step))


def _split_warnings(good) -> tuple[list[str], list]:
    """Warnings for labels the split leaves without a validation or test source, and the test examples."""
    splits = make_split(good)
    lines = []
    sources = defaultdict(set)
    for ex in good:
        sources[ex.label].add(ex.source)
    for split in ("val", "test") if not folds(good) else ("test",):
        held = {ex.label for ex in splits[split]}
        for label in sorted(set(sources) - held):
            lines.append(f"  warning: {label!r} has no {split} source in the split ({len(sources[label])} sources in "
                         f"all); training refuses it without --allow-degenerate (add recordings or use --group-by)")
    if len(sources) > 1 and len({ex.label for ex in splits["test"]}) == 1:
        lines.append("  warning: the test split holds one label; its accuracy would say nothing")
    return lines, splits["test"]


def inspect_layout(root: Path, layout: str, options: ReadOptions = ReadOptions()) -> list[str]:
    """Report lines for one single-layout folder."""
    examples, duplicates = read_layout_with_duplicates(root, layout, options)
    checked = check_examples(examples)
    durations, bad = checked.seconds, checked.bad
    good = [ex for ex in examples if ex.path in durations]
    hours = sum(durations.values()) / 3600
    lines = [f"{layout}: {root}", f"  files: {len(examples)} ({len(good)} readable)   hours: {hours:.2f}   "
             f"sources (recordings / speakers): {len({ex.source for ex in good})}"]
    if layout in ("deepasmr", "adell"):
        depth = options.label_depth or LABEL_DEPTH[layout]
        lines.append(f"  label tree (label depth {depth}; --label-depth changes it):")
        lines += [f"    {line}" for line in label_tree(root, good)]
    per_class: dict[str, list[float]] = defaultdict(list)
    sources: dict[str, set[str]] = defaultdict(set)
    for ex in good:
        for label in ex.labels:
            per_class[label].append(durations[ex.path])
            sources[label].add(ex.source)
    unit = {"deepasmr": "~1 s slices", "adell": "~1 s slices", "asmr85": "10 s clips"}.get(layout, "clips")
    lines.append(f"  clips per class ({len(per_class)} classes; files / hours / {unit} / sources):")
    for label in sorted(per_class):
        secs = per_class[label]
        count = sum(_examples_per_file(layout, s) for s in secs)
        lines.append(f"    {label:32s} {len(secs):6d} {sum(secs) / 3600:7.2f} h {count:8d} {len(sources[label]):6d}")
    step = EXAMPLE_SECONDS[layout]
    short = sorted(ex.path for ex in good if step is not None and durations[ex.path] < step)
    if short:
        lines.append(f"  shorter than one {unit[:-1]}: {len(short)} files (the trainers repeat-pad each to one)")
        lines += [f"    {path}" for path in short]
    if layout == "fsd50k":
        splits = Counter(ex.split for ex in good)
        lines.append(f"  published splits: {dict(sorted(splits.items()))}")
        test = splits.get("eval", 0)
        described = "fsd50k: eval"
    else:
        warnings, test_examples = _split_warnings(good)
        test = sum(_examples_per_file(layout, durations[ex.path]) for ex in test_examples)
        if folds(good):
            lines.append(f"  published folds (clips): {dict(sorted(Counter(ex.fold for ex in good).items()))}")
            described = "test fold 1 of the published folds"
        else:
            described = "source-grouped 0.7/0.15/0.15 split"
        lines += warnings
    lines.append(f"  test examples ({unit}; {described}): {test}")
    lines.append(f"  byte-identical files: {len(duplicates)} groups (each group kept to one source in splits)")
    lines += [f"    {' = '.join(str(p) for p in group)}" for group in duplicates]
    lines.append(f"  bad files: {len(bad)}")
    lines += [f"    {path}: {reason}" for path, reason in bad]
    if checked.truncated:
        lines.append(f"  truncated files (used as far as they go): {len(checked.truncated)}")
        lines += [f"    {note}" for note in checked.truncated]
    return lines


def inspect_folder(root: Path, options: ReadOptions = ReadOptions()) -> list[str]:
    """A single layout, or a folder holding several (named after them, as `synth --layout all` writes)."""
    present = [name for name in LAYOUTS if (root / name).is_dir()]
    if present:
        return [line for name in present for line in inspect_layout(root / name, detect_layout(root / name), options)]
    return inspect_layout(root, detect_layout(root), options)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=existing_path)
    add_read_flags(parser)


def main(args) -> int:
    print("\n".join(inspect_folder(args.folder, read_options(args))))
    return 0
