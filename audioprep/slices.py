"""Labelled clip and slice sets from any dataset adapter: Lin's 10 s clips and DeepASMR's ~1 s slices.

Examples are split by source recording before cutting, so no recording feeds both sides of a
split. Files are read one at a time (hour-long recordings never sit in memory together) and
turned into model inputs by the caller's rule. The sets are cached as .npz keyed by the files,
the settings and the seed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from audioprep.cache import settings_key, write_npz
from audioprep.corpus import data_root
from audioprep.datasets import Example, ScanResult, load_examples, read_trigger_folders, split_by_source
from audioprep.features import mel_slices
from audioprep.params import MelSliceParams
from audioprep.segment import fixed_clips

SPLITS = ("train", "val", "test")
FRACTIONS = (0.7, 0.15, 0.15)


@dataclass
class SliceSet:
    """Inputs of one split: inputs, integer labels, the recording each came from, and the class names."""

    x: np.ndarray
    y: np.ndarray
    sources: list[str]
    classes: list[str]

    def __len__(self) -> int:
        return len(self.y)


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


def build_sets(
    examples: Sequence[Example], classes: list[str], sr: int, inputs: Callable[[Example, np.ndarray], np.ndarray], *,
    shape: tuple[int, ...], name: str, settings: dict, fractions=FRACTIONS, seed: int = 0, cache: bool = True,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet: each example loaded mono at `sr`, `inputs(example, audio)` -> (k, *shape).

    `settings` must name everything `inputs` depends on: with the files, `fractions` and `seed` it keys
    the cache `<data root>/cache/<name>-<key>.npz`. Unreadable files are skipped and named on stderr.
    """
    examples = list(examples)
    key = settings_key({**settings, "fractions": list(fractions), "seed": seed}, [e.path for e in examples])
    cache_file = data_root() / "cache" / f"{name}-{key}.npz"
    if cache and cache_file.exists():
        return _read_sets(cache_file, classes)
    sets, bad, read = {}, [], 0
    for split, members in split_by_source(examples, fractions, seed).items():
        xs, ys, sources = [], [], []
        for ex in tqdm(members, desc=f"{name} ({split})", unit="file", leave=False):
            loaded = load_examples([ex], sr=sr, mono=True, progress=False)
            bad += loaded.bad
            for _, audio in loaded.loaded:
                read += 1
                x = inputs(ex, audio)
                xs.append(x)
                ys += [classes.index(ex.label)] * len(x)
                sources += [ex.source] * len(x)
        x = np.concatenate(xs) if xs else np.zeros((0, *shape), np.float32)
        sets[split] = SliceSet(x.astype(np.float32), np.asarray(ys, np.int64), sources, classes)
    if bad:
        print(ScanResult(bad=bad).report(loaded=read), file=sys.stderr)
    if cache:
        _write_sets(cache_file, sets)
    return sets


def _write_sets(path, sets: dict[str, SliceSet]) -> None:
    arrays = {}
    for s, v in sets.items():
        arrays.update({f"{s}_x": v.x, f"{s}_y": v.y, f"{s}_sources": np.asarray(v.sources, dtype=str)})
    write_npz(path, arrays)


def _read_sets(path, classes: list[str]) -> dict[str, SliceSet]:
    with np.load(path, allow_pickle=False) as stored:
        return {s: SliceSet(stored[f"{s}_x"], stored[f"{s}_y"], stored[f"{s}_sources"].tolist(), classes) for s in SPLITS}


def _trigger_examples(root) -> tuple[list[Example], list[str]]:
    examples = read_trigger_folders(root)
    return examples, sorted({ex.label for ex in examples})


def mel_slice_sets(
    root, params: MelSliceParams = MelSliceParams(), fractions=FRACTIONS, seed: int = 0,
    max_slices_per_file: int | None = None, cache: bool = True,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet of (k, frames, n_mels) log-mel slices of a trigger-folder layout (DeepASMR)."""
    examples, classes = _trigger_examples(root)
    return build_sets(
        examples, classes, params.sample_rate, lambda _, audio: evenly(mel_slices(audio, params), max_slices_per_file),
        shape=(params.frames, params.n_mels), name="mel", settings={**asdict(params), "max": max_slices_per_file},
        fractions=fractions, seed=seed, cache=cache,
    )


def audio_slice_sets(
    root, sr: int, seconds: float = 1.0, fractions=FRACTIONS, seed: int = 0,
    max_slices_per_file: int | None = None, cache: bool = True,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet of (k, n) raw mono slices of `seconds` at `sr` of a trigger-folder layout."""
    examples, classes = _trigger_examples(root)
    length = int(round(sr * seconds))
    return build_sets(
        examples, classes, sr, lambda _, audio: clips(audio, length, max_slices_per_file),
        shape=(length,), name="audio", settings={"sr": sr, "seconds": seconds, "max": max_slices_per_file},
        fractions=fractions, seed=seed, cache=cache,
    )
