"""Labelled ~1 s slice sets from trigger-folder layouts, shared by classifiers and generators.

Splits are grouped by source recording before slicing, so no recording feeds both sides of a
split. The sets are cached as .npz keyed by the files, the parameters and the seed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from audioprep.cache import settings_key
from audioprep.corpus import data_root
from audioprep.datasets import load_examples, read_trigger_folders, split_by_source
from audioprep.features import mel_slices
from audioprep.params import MelSliceParams
from audioprep.segment import fixed_clips

SPLITS = ("train", "val", "test")


@dataclass
class SliceSet:
    """Slices of one split: inputs, integer labels, the recording each came from, and the class names."""

    x: np.ndarray
    y: np.ndarray
    sources: list[str]
    classes: list[str]

    def __len__(self) -> int:
        return len(self.y)


def _evenly(items: np.ndarray, limit: int | None) -> np.ndarray:
    if limit is None or len(items) <= limit:
        return items
    return items[np.linspace(0, len(items) - 1, limit).round().astype(int)]


def _slice_sets(
    root, slicer: Callable[[np.ndarray], np.ndarray], sr: int, settings: dict,
    fractions, seed: int, max_slices_per_file: int | None, cache: bool,
) -> dict[str, SliceSet]:
    root = Path(root)
    examples = read_trigger_folders(root)
    classes = sorted({ex.label for ex in examples})
    settings = {**settings, "fractions": list(fractions), "seed": seed, "max": max_slices_per_file}
    cache_file = data_root() / "cache" / f"slices-{settings_key(settings, [e.path for e in examples])}.npz"
    if cache and cache_file.exists():
        stored = np.load(cache_file, allow_pickle=False)
        return {
            s: SliceSet(stored[f"{s}_x"], stored[f"{s}_y"], list(stored[f"{s}_sources"]), classes) for s in SPLITS
        }
    sets = {}
    for split, members in split_by_source(examples, fractions, seed).items():
        scan = load_examples(members, sr=sr, mono=True)
        if scan.bad:
            print(scan.report(), file=sys.stderr)
        xs, ys, sources = [], [], []
        for ex, audio in scan.loaded:
            sliced = _evenly(slicer(audio), max_slices_per_file)
            xs.append(sliced)
            ys += [classes.index(ex.label)] * len(sliced)
            sources += [ex.source] * len(sliced)
        x = np.concatenate(xs) if xs else np.zeros((0,), np.float32)
        sets[split] = SliceSet(x.astype(np.float32), np.asarray(ys, dtype=np.int64), sources, classes)
    if cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for s, v in sets.items():
            arrays.update({f"{s}_x": v.x, f"{s}_y": v.y, f"{s}_sources": np.asarray(v.sources, dtype=str)})
        np.savez(cache_file, **arrays)
    return sets


def mel_slice_sets(
    root, params: MelSliceParams = MelSliceParams(), fractions=(0.7, 0.15, 0.15), seed: int = 0,
    max_slices_per_file: int | None = None, cache: bool = True,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet of (k, frames, n_mels) log-mel slices (DeepASMR inputs)."""
    return _slice_sets(
        root, lambda audio: mel_slices(audio, params), params.sample_rate,
        {"kind": "mel", **asdict(params)}, fractions, seed, max_slices_per_file, cache,
    )


def audio_slice_sets(
    root, sr: int, seconds: float = 1.0, fractions=(0.7, 0.15, 0.15), seed: int = 0,
    max_slices_per_file: int | None = None, cache: bool = True,
) -> dict[str, SliceSet]:
    """{"train","val","test"} -> SliceSet of (k, n) raw mono audio slices of `seconds` at `sr`."""
    length = int(round(sr * seconds))
    return _slice_sets(
        root, lambda audio: fixed_clips(audio, length), sr,
        {"kind": "audio", "sr": sr, "seconds": seconds}, fractions, seed, max_slices_per_file, cache,
    )
