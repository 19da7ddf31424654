"""FSD50K (real or generated) as LEAN's inputs: 1 s training patches and whole evaluation clips.

Each split is decoded once, at LeanParams.sample_rate, into a memory-mapped 16-bit PCM store
(`audioprep.pcm_store`, under data/cache/lean/) and read lazily, so the real FSD50K (108 h) trains
on a machine with less memory than its decoded audio. Training patches are the clip cut into
non-overlapping 1 s pieces, each labelled with the clip's labels; a clip under 1 s is repeated to
1 s (the paper's rule). Only a (clip, start) index of the patches is held; the tf.data pipeline
shuffles it, reads each batch from the store in parallel and prefetches, so both cores stay busy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from audioprep.cache import settings_key
from audioprep.corpus import data_root
from audioprep.datasets import Example, read_fsd50k
from audioprep.pcm_store import PcmClips, decode
from audioprep.segment import fixed_clips, repeat_pad
from lean.params import LeanParams

SHORT = -1  # patch start of a clip under 1 s: the whole clip, repeated


@dataclass
class ClipSet:
    """Whole clips of one split with their multi-hot labels over the vocabulary.

    `clips` is any sequence of float32 arrays: a `PcmClips` store, or a list in tests.
    """

    clips: Sequence[np.ndarray]
    labels: np.ndarray
    paths: list[Path]

    def __len__(self) -> int:
        return len(self.clips)

    def lengths(self) -> np.ndarray:
        """Samples per clip (a store knows them without reading the audio)."""
        if isinstance(self.clips, PcmClips):
            return self.clips.lengths
        return np.array([len(audio) for audio in self.clips], np.int64)


@dataclass
class LeanData:
    """The three splits (FSD50K dev train / dev val / eval), the vocabulary and the bad-file report."""

    splits: dict[str, ClipSet]
    vocabulary: list[str]
    report: str
    root: Path


def multi_hot(labels, vocabulary: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(vocabulary)}
    out = np.zeros(len(vocabulary), dtype=np.float32)
    for name in labels:
        if name in index:
            out[index[name]] = 1.0
    return out


def load_data(
    root,
    params: LeanParams = LeanParams(),
    splits=("train", "val", "eval"),
    progress: bool = True,
    max_clips: dict[str, int] | None = None,
) -> LeanData:
    """Read the chosen splits of an FSD50K layout at params.sample_rate; unreadable files are skipped and named in `report`.

    `max_clips` ({split: n}) keeps the first n clips of a split (for --quick runs).
    """
    examples, vocabulary = read_fsd50k(root)
    by_split: dict[str, list[Example]] = {"train": [], "val": [], "eval": []}
    for ex in examples:
        by_split.setdefault(ex.split, []).append(ex)
    chosen_splits, reports = {}, []
    for name in splits:
        limit = (max_clips or {}).get(name)
        chosen = by_split[name][:limit] if limit else by_split[name]
        store = decode(chosen, params.sample_rate, store_folder(root, name, chosen, params), progress)
        reports.append(f"{name}: {store.report()}")
        kept = [chosen[i] for i in store.kept]
        chosen_splits[name] = ClipSet(
            clips=store,
            labels=np.stack([multi_hot(ex.labels, vocabulary) for ex in kept])
            if kept
            else np.zeros((0, len(vocabulary)), np.float32),
            paths=[ex.path for ex in kept],
        )
    return LeanData(chosen_splits, vocabulary, "\n".join(reports), Path(root))


def clip_patches(audio: np.ndarray, params: LeanParams = LeanParams(), max_patches: int | None = None) -> np.ndarray:
    """(k, patch_samples) non-overlapping 1 s patches of one clip; a clip under 1 s gives one repeated patch."""
    n = params.patch_samples
    patches = fixed_clips(audio, n) if len(audio) >= n else repeat_pad(audio, n)[None]
    return patches[:max_patches] if max_patches else patches


def store_folder(root, split: str, examples: list[Example], params: LeanParams) -> Path:
    """Where a split's decoded store lives: keyed by the dataset, the split's files and the sample rate."""
    truth = sorted((Path(root) / "FSD50K.ground_truth").glob("*.csv"))
    key = settings_key([str(Path(root).resolve()), split, params.sample_rate, [str(ex.path) for ex in examples]], truth)
    return data_root() / "cache" / "lean" / f"pcm-{split}-{key}"


def patch_index(clips: ClipSet, params: LeanParams = LeanParams(), max_patches_per_clip: int | None = None) -> np.ndarray:
    """(N, 2) int64 rows (clip, start sample) of every training patch; start is SHORT for a clip under 1 s."""
    n = params.patch_samples
    rows = []
    for i, length in enumerate(clips.lengths()):
        starts = np.arange(0, length - n + 1, n) if length >= n else np.array([SHORT])
        rows.append(np.stack([np.full(len(starts), i), starts], axis=1)[:max_patches_per_clip])
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 2), np.int64)


def read_patches(clips: ClipSet, index: np.ndarray, params: LeanParams = LeanParams()) -> tuple[np.ndarray, np.ndarray]:
    """The float32 waveforms (k, patch_samples) and labels (k, C) of the patches named by `index` rows."""
    n = params.patch_samples
    waves = np.empty((len(index), n), np.float32)
    for row, (clip, start) in enumerate(index):
        audio = clips.clips[clip]
        waves[row] = repeat_pad(audio, n) if start == SHORT else audio[start : start + n]
    return waves, clips.labels[index[:, 0]]


def patch_dataset(
    clips: ClipSet,
    params: LeanParams = LeanParams(),
    max_patches_per_clip: int | None = None,
    shuffle: bool = False,
) -> tf.data.Dataset:
    """Batches of (float32 waveforms, labels) over a split's patches; reshuffled each epoch when training."""
    index = patch_index(clips, params, max_patches_per_clip)
    classes = clips.labels.shape[1]
    ds = tf.data.Dataset.from_tensor_slices(index)
    if shuffle:
        ds = ds.shuffle(len(index), seed=params.seed, reshuffle_each_iteration=True)

    def read(rows):
        waves, labels = tf.numpy_function(lambda r: read_patches(clips, r, params), [rows], [tf.float32, tf.float32])
        waves.set_shape([None, params.patch_samples])
        labels.set_shape([None, classes])
        return waves, labels

    ds = ds.batch(params.batch_size).map(read, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
