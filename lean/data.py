"""FSD50K (real or generated) as LEAN's inputs: 1 s, 16 kHz training patches and whole evaluation clips.

Training patches are the clip cut into non-overlapping 1 s pieces, each labelled with the clip's
labels; a clip under 1 s is repeated to 1 s (the paper's rule). Patches are held as 16-bit PCM
(half the memory of float32; the full FSD50K dev split is about 9 GB this way, on top of its
decoded clips) and turned into float32 by the tf.data pipeline, which batches and prefetches so
both cores stay busy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from audioprep.datasets import Example, load_examples, read_fsd50k
from audioprep.segment import fixed_clips, repeat_pad
from lean.params import LeanParams

PCM_SCALE = 32767.0


@dataclass
class ClipSet:
    """Whole clips of one split with their multi-hot labels over the vocabulary."""

    clips: list[np.ndarray]
    labels: np.ndarray
    paths: list[Path]

    def __len__(self) -> int:
        return len(self.clips)


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
    """Read the chosen splits of an FSD50K layout at 16 kHz; unreadable files are skipped and named in `report`.

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
        scan = load_examples(chosen, sr=params.sample_rate, progress=progress)
        reports.append(f"{name}: {scan.report()}")
        chosen_splits[name] = ClipSet(
            clips=[audio for _, audio in scan.loaded],
            labels=np.stack([multi_hot(ex.labels, vocabulary) for ex, _ in scan.loaded])
            if scan.loaded
            else np.zeros((0, len(vocabulary)), np.float32),
            paths=[ex.path for ex, _ in scan.loaded],
        )
    return LeanData(chosen_splits, vocabulary, "\n".join(reports), Path(root))


def clip_patches(audio: np.ndarray, params: LeanParams = LeanParams(), max_patches: int | None = None) -> np.ndarray:
    """(k, 16000) non-overlapping 1 s patches of one clip; a clip under 1 s gives one repeated patch."""
    n = params.patch_samples
    patches = fixed_clips(audio, n) if len(audio) >= n else repeat_pad(audio, n)[None]
    return patches[:max_patches] if max_patches else patches


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, -1.0, 1.0) * PCM_SCALE).astype(np.int16)


def patch_arrays(clips: ClipSet, params: LeanParams = LeanParams(), max_patches_per_clip: int | None = None):
    """All patches of a split as (int16 PCM (N, 16000), labels (N, C))."""
    xs, ys = [], []
    for audio, label in zip(clips.clips, clips.labels, strict=True):
        patches = clip_patches(audio, params, max_patches_per_clip)
        xs.append(to_pcm16(patches))
        ys.append(np.repeat(label[None], len(patches), axis=0))
    if not xs:
        return np.zeros((0, params.patch_samples), np.int16), np.zeros((0, clips.labels.shape[1]), np.float32)
    return np.concatenate(xs), np.concatenate(ys)


def patch_dataset(x_pcm: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0) -> tf.data.Dataset:
    """Batches of (float32 waveforms, labels); shuffled each epoch when training."""
    ds = tf.data.Dataset.from_tensor_slices((x_pcm, y))
    if shuffle:
        ds = ds.shuffle(len(x_pcm), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(
        lambda x, t: (tf.cast(x, tf.float32) / PCM_SCALE, t), num_parallel_calls=tf.data.AUTOTUNE
    )
    return ds.prefetch(tf.data.AUTOTUNE)
