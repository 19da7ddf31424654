"""`python -m audioprep synth ...` writes the generated corpus; `python -m audioprep inspect DIR` describes a dataset.

inspect names the layout, counts files, hours, clips per class and source recordings, estimates
the test-split size of each paper's task, and lists unreadable files by name (exit status 0).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from audioprep.cli import existing_path, int_at_least, run_cli
from audioprep.datasets import (
    LAYOUTS,
    check_examples,
    detect_layout,
    read_fsd50k,
    read_layout,
    split_by_source,
)
from audioprep.params import MelSliceParams, MfccParams

# What one example of each layout's task is, in seconds (None: one example per file).
_SLICE_S = MelSliceParams().slice_samples / MelSliceParams().sample_rate
EXAMPLE_SECONDS = {"deepasmr": _SLICE_S, "adell": _SLICE_S, "asmr85": MfccParams().clip_seconds,
                   "commonvoice": None, "fsd50k": None}


def _examples_per_file(layout: str, seconds: float) -> int:
    step = EXAMPLE_SECONDS[layout]
    return 1 if step is None else int(seconds // step)


def inspect_layout(root: Path, layout: str) -> list[str]:
    """Report lines for one single-layout folder."""
    examples = read_fsd50k(root)[0] if layout == "fsd50k" else read_layout(root, layout)
    checked = check_examples(examples)
    durations, bad = checked.seconds, checked.bad
    good = [ex for ex in examples if ex.path in durations]
    hours = sum(durations.values()) / 3600
    lines = [f"{layout}: {root}", f"  files: {len(examples)} ({len(good)} readable)   hours: {hours:.2f}   "
             f"sources (recordings / speakers): {len({ex.source for ex in good})}"]
    per_class: dict[str, list[float]] = defaultdict(list)
    for ex in good:
        for label in ex.labels:
            per_class[label].append(durations[ex.path])
    unit = {"deepasmr": "~1 s slices", "adell": "~1 s slices", "asmr85": "10 s clips"}.get(layout, "clips")
    lines.append(f"  clips per class ({len(per_class)} classes; files / hours / {unit}):")
    for label in sorted(per_class):
        secs = per_class[label]
        count = sum(_examples_per_file(layout, s) for s in secs)
        lines.append(f"    {label:32s} {len(secs):6d} {sum(secs) / 3600:7.2f} h {count:8d}")
    if layout == "fsd50k":
        splits = Counter(ex.split for ex in good)
        lines.append(f"  published splits: {dict(sorted(splits.items()))}")
        test = splits.get("eval", 0)
    else:
        test_examples = split_by_source(good)["test"]
        test = sum(_examples_per_file(layout, durations[ex.path]) for ex in test_examples)
    lines.append(f"  test examples ({unit}; source-grouped 0.7/0.15/0.15 split, fsd50k: eval): {test}")
    lines.append(f"  bad files: {len(bad)}")
    lines += [f"    {path}: {reason}" for path, reason in bad]
    if checked.truncated:
        lines.append(f"  truncated files (used as far as they go): {len(checked.truncated)}")
        lines += [f"    {note}" for note in checked.truncated]
    return lines


def inspect_folder(root: Path) -> list[str]:
    """A single layout, or a folder holding several (named after them, as `synth --layout all` writes)."""
    present = [name for name in LAYOUTS if (root / name).is_dir()]
    if present:
        return [line for name in present for line in inspect_layout(root / name, detect_layout(root / name))]
    return inspect_layout(root, detect_layout(root))


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audioprep", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="write the generated default corpus in the real datasets' layouts")
    synth.add_argument("--layout", required=True, choices=[*LAYOUTS, "all"])
    synth.add_argument("--out", required=True, type=Path, help="parent folder; writes OUT/<layout>/")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--size", choices=["small", "default"], default="default")
    synth.add_argument("--workers", type=int_at_least(1), default=None,
                       help="worker processes (default 2; small: none); the files do not depend on it")
    look = sub.add_parser("inspect", help="describe a dataset folder and name its unreadable files")
    look.add_argument("folder", type=existing_path)
    args = parser.parse_args(argv)

    if args.command == "synth":
        from audioprep.synth import write_layout

        start = time.perf_counter()
        made = write_layout(args.layout, args.out, seed=args.seed, size=args.size, workers=args.workers)
        files = sum(1 for p in made.rglob("*") if p.is_file())
        print(f"wrote {made} ({files} files, seed {args.seed}, size {args.size}) "
              f"in {time.perf_counter() - start:.1f} s")
        return 0
    print("\n".join(inspect_folder(args.folder)))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
