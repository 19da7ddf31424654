"""Labelled clip and slice sets from any dataset adapter: Lin's 10 s clips and DeepASMR's ~1 s slices.

Examples are split by source recording (or by a dataset's published folds) before cutting, so no
recording feeds both sides of a split. Files are read one at a time (hour-long recordings never sit
in memory together) and turned into model inputs by the caller's rule; a recording shorter than one
input is repeat-padded to it and named on stderr, never dropped. Every input keeps the file it came
from, so slice scores can be averaged per clip. The sets are cached as .npz keyed by the files, the
settings, the split and the seed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from audioprep import console
from audioprep.cache import settings_key, write_npz
from audioprep.datasets import Example, ReadOptions, ScanResult, load_examples, make_split, read_layout
from audioprep.errors import UsageError
from audioprep.features import mel_slices
from audioprep.params import MelSliceParams
from audioprep.paths import data_root
from audioprep.segment import fixed_clips, repeat_pad

SPLITS = ("train", "val", "test")
FRACTIONS = (0.7, 0.15, 0.15)
CACHE_FORMAT = 2  # 2: inputs keep their file; short recordings repeat-padded
ALLOW_DEGENERATE = "--allow-degenerate"


@dataclass
class SliceSet:
    """Inputs of one split: inputs, integer labels, the recording and the file (clip) each came from, the class names."""

    x: np.ndarray
    y: np.ndarray
    sources: list[str]
    classes: list[str]
    files: list[str]

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> list[int]:
        """Inputs per class, in `classes` order."""
        return np.bincount(self.y, minlength=len(self.classes)).tolist()

    def clip_counts(self) -> list[int]:
        """Clips (files) per class, in `classes` order."""
        label_of = dict(zip(self.files, self.y.tolist(), strict=True))
        return np.bincount(np.asarray(list(label_of.values()), np.int64), minlength=len(self.classes)).tolist()


def split_problems(splits: dict[str, SliceSet], need_val: bool = True) -> list[str]:
    """Why a split's numbers would mean nothing: a class without validation or test inputs, or a test
    set of one class (its accuracy says nothing about telling classes apart). [] when it is sound."""
    problems = []
    for split in ("val", "test") if need_val else ("test",):
        missing = [c for c, n in zip(splits[split].classes, splits[split].counts(), strict=True) if n == 0]
        if missing:
            problems.append(f"no {split} input of {', '.join(missing)}")
    held = sum(n > 0 for n in splits["test"].counts())
    if held < 2:
        problems.append("the test set is empty" if held == 0 else "the test set holds one class")
    return problems


def check_split(splits: dict[str, SliceSet], need_val: bool = True, allow_degenerate: bool = False) -> str | None:
    """Refuse a degenerate split in one line (UsageError); with `allow_degenerate`, the warning to print
    beside every number instead. None when the split is sound."""
    problems = split_problems(splits, need_val)
    if not problems:
        return None
    what = "degenerate split: " + "; ".join(problems)
    if not allow_degenerate:
        raise UsageError(f"{what} (more sources per label, --group-by, or {ALLOW_DEGENERATE} to run it anyway)")
    return what


def evenly(items, limit: int | None):
    """At most `limit` items spread evenly over `items`, first and last kept (deterministic subsampling).

    An array gives an array, any other sequence a list; `items` itself when it is short enough."""
    if limit is None or len(items) <= limit:
        return items
    index = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return items[index] if isinstance(items, np.ndarray) else [items[i] for i in index]


def clips(audio: np.ndarray, length: int, limit: int | None = None) -> np.ndarray:
    """At most `limit` evenly spread non-overlapping clips of `length` samples (the remainder dropped)."""
    return evenly(fixed_clips(audio, length), limit)


def _report_padded(padded: list[Path], seconds: float) -> None:
    shown = "".join(f"\n  {path}" for path in padded[:10]) + (f"\n  ... {len(padded) - 10} more" if len(padded) > 10 else "")
    print(f"{len(padded)} recordings shorter than one {seconds:g} s input were repeat-padded to it:{shown}",
          file=sys.stderr)


def _example_inputs(ex: Example, sr: int, inputs, min_samples, known, bad: list, padded: list) -> list[np.ndarray]:
    """One example's inputs: `known`'s if at hand, else from the file decoded (bad files and paddings noted)."""
    x = known(ex)
    if x is not None:
        return [x]
    loaded = load_examples([ex], sr=sr, mono=True, progress=False)
    bad += loaded.bad
    out = []
    for _, audio in loaded.loaded:
        if 0 < len(audio) < min_samples(ex):
            audio = repeat_pad(audio, min_samples(ex))
            padded.append(ex.path)
        out.append(inputs(ex, audio))
    return out


def build_sets(
    examples: Sequence[Example], classes: list[str], sr: int, inputs: Callable[[Example, np.ndarray], np.ndarray], *,
    shape: tuple[int, ...], name: str, settings: dict, fractions=FRACTIONS, seed: int = 0, cache: bool = True,
    min_samples: Callable[[Example], int] = lambda _: 0, test_fold: int | None = None, val_fold: int | None = None,
    known: Callable[[Example], np.ndarray | None] = lambda _: None,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet: each example loaded mono at `sr`, `inputs(example, audio)` -> (k, *shape).

    `known(example)` gives an example's inputs without decoding it when they are already at hand (a cache keyed
    by the file's bytes), else None: such a file is not decoded at all.

    The split is `make_split`'s (published folds, else grouped by source with `fractions` and `seed`).
    A recording shorter than `min_samples(example)` (one input) is repeat-padded to it and named on
    stderr. `settings` must name everything `inputs` depends on: with the files and the split it keys
    the cache `<data root>/cache/<name>-<key>.npz`. Unreadable files are skipped and named on stderr.
    """
    examples = list(examples)
    split = {"fractions": list(fractions), "seed": seed, "test_fold": test_fold, "val_fold": val_fold}
    key = settings_key({**settings, **split, "format": CACHE_FORMAT, "sources": [e.source for e in examples]},
                       [e.path for e in examples])
    cache_file = data_root() / "cache" / f"{name}-{key}.npz"
    if cache and cache_file.exists():
        return _read_sets(cache_file, classes)
    sets, bad, read, padded = {}, [], 0, []
    for part, members in make_split(examples, fractions, seed, test_fold, val_fold).items():
        xs, ys, sources, files = [], [], [], []
        for ex in console.bar(members, desc=f"{name} ({part})", unit="file", leave=False):
            for x in _example_inputs(ex, sr, inputs, min_samples, known, bad, padded):
                read += 1
                xs.append(x)
                ys += [classes.index(ex.label)] * len(x)
                sources += [ex.source] * len(x)
                files += [str(ex.path)] * len(x)
        x = np.concatenate(xs) if xs else np.zeros((0, *shape), np.float32)
        sets[part] = SliceSet(x.astype(np.float32), np.asarray(ys, np.int64), sources, classes, files)
    if bad:
        print(ScanResult(bad=bad).report(loaded=read), file=sys.stderr)
    if padded:
        _report_padded(padded, max(min_samples(ex) for ex in examples) / sr)
    if cache:
        _write_sets(cache_file, sets)
    return sets


def _write_sets(path, sets: dict[str, SliceSet]) -> None:
    arrays = {}
    for s, v in sets.items():
        arrays.update({f"{s}_x": v.x, f"{s}_y": v.y, f"{s}_sources": np.asarray(v.sources, dtype=str),
                       f"{s}_files": np.asarray(v.files, dtype=str)})
    write_npz(path, arrays)


def _read_sets(path, classes: list[str]) -> dict[str, SliceSet]:
    with np.load(path, allow_pickle=False) as stored:
        return {s: SliceSet(stored[f"{s}_x"], stored[f"{s}_y"], stored[f"{s}_sources"].tolist(), classes,
                            stored[f"{s}_files"].tolist()) for s in SPLITS}


def labelled_examples(root, options: ReadOptions = ReadOptions()) -> tuple[list[Example], list[str]]:
    """A single-label layout's examples (trigger folders, ESC-50) and its sorted class names."""
    examples = read_layout(root, options=options)
    return examples, sorted({ex.label for ex in examples})


def mel_slice_sets(
    root, params: MelSliceParams = MelSliceParams(), fractions=FRACTIONS, seed: int = 0,
    max_slices_per_file: int | None = None, cache: bool = True, options: ReadOptions = ReadOptions(),
    test_fold: int | None = None, val_fold: int | None = None,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet of (k, frames, n_mels) log-mel slices of a labelled folder (DeepASMR)."""
    examples, classes = labelled_examples(root, options)
    return build_sets(
        examples, classes, params.sample_rate, lambda _, audio: evenly(mel_slices(audio, params), max_slices_per_file),
        shape=(params.frames, params.n_mels), name="mel", settings={**asdict(params), "max": max_slices_per_file},
        fractions=fractions, seed=seed, cache=cache, min_samples=lambda _: params.slice_samples,
        test_fold=test_fold, val_fold=val_fold,
    )


def audio_slice_sets(
    root, sr: int, seconds: float = 1.0, fractions=FRACTIONS, seed: int = 0,
    max_slices_per_file: int | None = None, cache: bool = True, options: ReadOptions = ReadOptions(),
    test_fold: int | None = None, val_fold: int | None = None,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet of (k, n) raw mono slices of `seconds` at `sr` of a labelled folder."""
    examples, classes = labelled_examples(root, options)
    length = int(round(sr * seconds))
    return build_sets(
        examples, classes, sr, lambda _, audio: clips(audio, length, max_slices_per_file),
        shape=(length,), name="audio", settings={"sr": sr, "seconds": seconds, "max": max_slices_per_file},
        fractions=fractions, seed=seed, cache=cache, min_samples=lambda _: length, test_fold=test_fold, val_fold=val_fold,
    )
