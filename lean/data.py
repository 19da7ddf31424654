"""A labelled dataset as LEAN's inputs: 1 s training patches and whole evaluation clips.

FSD50K (real or generated) is multi-label with its published train/val/eval splits. Any other
layout an `audioprep.datasets` adapter reads (`<label>/*.wav` trigger folders, ESC-50, ...) is
single-label, split as every trainer splits it (`make_split`: ESC-50's published folds, else
sources 70/15/15 per label), so the softmax head and categorical loss apply; its test split is
LEAN's "eval".

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
from audioprep.datasets import (
    DEFAULT_TEST_FOLD,
    Example,
    ReadOptions,
    detect_layout,
    folds,
    make_split,
    read_fsd50k,
    read_layout,
)
from audioprep.errors import UsageError
from audioprep.paths import data_root
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
    """The splits (train / val / eval), the vocabulary, the bad-file report and how the splits were made.

    `multi_label` is True for FSD50K (sigmoid scores, binary loss) and False for single-label
    folders (softmax, categorical loss); `protocol` says where the splits came from, for params.json.
    """

    splits: dict[str, ClipSet]
    vocabulary: list[str]
    report: str
    root: Path
    multi_label: bool = True
    protocol: str = "FSD50K dev train / dev val / eval"


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
    options: ReadOptions = ReadOptions(),
    test_fold: int | None = None,
    val_fold: int | None = None,
) -> LeanData:
    """Read the chosen splits of a dataset folder at params.sample_rate; unreadable files are skipped and named in `report`.

    FSD50K keeps its published splits; another layout is single-label (module docstring), read with
    `options` and split by `make_split` (ESC-50: `test_fold`, default 1, and `val_fold`, default none).
    `max_clips` ({split: n}) keeps the first n clips of a split (for --quick runs).
    """
    if detect_layout(root) == "fsd50k":
        if test_fold is not None or val_fold is not None:
            raise UsageError("--test-fold/--val-fold: FSD50K has published train/val/eval splits, no folds")
        examples, vocabulary = read_fsd50k(root)
        by_split: dict[str, list[Example]] = {"train": [], "val": [], "eval": []}
        for ex in examples:
            by_split.setdefault(ex.split, []).append(ex)
        return decode_splits(root, by_split, vocabulary, params, splits, progress, max_clips)
    examples = read_layout(root, options=options)
    parts = make_split(examples, test_fold=test_fold, val_fold=val_fold)
    by_split = {"train": parts["train"], "val": parts["val"], "eval": parts["test"]}
    if folds(examples):
        test = test_fold or DEFAULT_TEST_FOLD
        protocol = f"published folds: test fold {test}, " + (f"validation fold {val_fold}" if val_fold else "no validation fold")
    else:
        protocol = "sources split train/val/test 70/15/15 per label (split seed 0)"
    return decode_splits(root, by_split, sorted({ex.label for ex in examples}), params, splits, progress, max_clips,
                         multi_label=False, protocol=protocol)


def decode_splits(
    root,
    by_split: dict[str, list[Example]],
    vocabulary: list[str],
    params: LeanParams = LeanParams(),
    splits=("train", "val", "eval"),
    progress: bool = True,
    max_clips: dict[str, int] | None = None,
    multi_label: bool = True,
    protocol: str = LeanData.protocol,
) -> LeanData:
    """Decode each chosen split of `by_split` into its PCM store and label it over `vocabulary`."""
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
    return LeanData(chosen_splits, vocabulary, "\n".join(reports), Path(root), multi_label, protocol)


def clip_patches(audio: np.ndarray, params: LeanParams = LeanParams(), max_patches: int | None = None) -> np.ndarray:
    """(k, patch_samples) non-overlapping 1 s patches of one clip; a clip under 1 s gives one repeated patch."""
    n = params.patch_samples
    patches = fixed_clips(audio, n) if len(audio) >= n else repeat_pad(audio, n)[None]
    return patches[:max_patches] if max_patches else patches


def store_folder(root, split: str, examples: list[Example], params: LeanParams) -> Path:
    """Where a split's decoded store lives: keyed by the dataset, the split's files and the sample rate.

    FSD50K's ground-truth tables stand for its 51k files' identity; elsewhere every file's own does."""
    truth = sorted((Path(root) / "FSD50K.ground_truth").glob("*.csv")) or [ex.path for ex in examples]
    key = settings_key([str(Path(root).resolve()), split, params.sample_rate, [str(ex.path) for ex in examples]], truth)
    return data_root() / "cache" / "lean" / f"pcm-{split}-{key}"


def patch_index(clips: ClipSet, params: LeanParams = LeanParams()) -> np.ndarray:
    """(N, 2) int64 rows (clip, start sample) of every training patch (the first `params.max_patches_per_clip` of
    each clip); start is SHORT for a clip under 1 s."""
    n = params.patch_samples
    rows = []
    for i, length in enumerate(clips.lengths()):
        starts = np.arange(0, length - n + 1, n) if length >= n else np.array([SHORT])
        rows.append(np.stack([np.full(len(starts), i), starts], axis=1)[: params.max_patches_per_clip])
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
    shuffle: bool = False,
) -> tf.data.Dataset:
    """Batches of (float32 waveforms, labels) over a split's patches; reshuffled each epoch when training."""
    index = patch_index(clips, params)
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
