"""Model inputs for every classifier, split by source recording, and their tf.data pipelines.

Two kinds of corpus:
- Lin 2024: a parent folder holding `asmr85/` (long ASMR recordings, cut into 10 s clips) and
  `commonvoice/` (read-speech clips, used whole); each clip becomes its 128-value mean MFCC.
  Splits are grouped by recording / speaker. Features are cached under data/cache/.
- DeepASMR: a trigger-folder layout (`<label>/<session>.wav`), cut into ~1 s slices by
  `audioprep.slices`: log-mels for the mel models, raw audio for (a), and the mean MFCC of each
  raw slice when `lin_conv1d` runs on it (Table 2's extra row).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from asmr_classify.models import INPUT_KIND
from audioprep.cache import settings_key
from audioprep.corpus import data_root, layout_dir
from audioprep.datasets import ScanResult, load_examples, read_asmr85, read_commonvoice, split_by_source
from audioprep.errors import UsageError
from audioprep.features import mfcc_mean
from audioprep.params import MelSliceParams, MfccParams
from audioprep.segment import fixed_clips
from audioprep.slices import SPLITS, SliceSet, audio_slice_sets, mel_slice_sets

LIN_LAYOUTS = ("asmr85", "commonvoice")


@dataclass
class Corpus:
    """One model's train/val/test inputs plus what `predict` needs to cut a new file the same way."""

    splits: dict[str, SliceSet]
    classes: list[str]
    kind: str  # "mfcc" | "audio" | "mel"
    window_samples: int  # samples (at sample_rate) behind one model input
    sample_rate: int
    root: Path

    def describe(self) -> dict:
        counts = {s: np.bincount(v.y, minlength=len(self.classes)).tolist() for s, v in self.splits.items()}
        return {"root": str(self.root), "classes": self.classes, "kind": self.kind,
                "window_samples": self.window_samples, "sample_rate": self.sample_rate, "counts": counts}


def is_lin_parent(root) -> bool:
    return all((Path(root) / name).is_dir() for name in LIN_LAYOUTS)


def lin_parent(data=None) -> Path:
    """The folder holding asmr85/ and commonvoice/ (generating the default corpus if `data` is None)."""
    if data is None:
        for layout in LIN_LAYOUTS:
            layout_dir(layout)  # generated on first use
        return data_root()
    if not is_lin_parent(data):
        raise UsageError(f"{data}: Lin's corpus needs sub-folders {' and '.join(LIN_LAYOUTS)}/")
    return Path(data)


def trigger_root(data=None) -> Path:
    """A trigger-folder layout: `data` (or its deepasmr/ sub-folder), else the generated deepasmr corpus."""
    return layout_dir("deepasmr", data)


def load_corpus(name: str, data=None, seed: int = 0, max_slices_per_file: int | None = None) -> Corpus:
    """Inputs for model `name` from `data` (see the module docstring for the layouts)."""
    kind = INPUT_KIND[name]
    mel = MelSliceParams()
    if kind == "mfcc" and (data is None or is_lin_parent(data)):
        return lin_corpus(lin_parent(data), seed=seed)
    if data is not None and is_lin_parent(data) and not (Path(data) / "deepasmr").is_dir():
        raise UsageError(f"{data}: holds Lin's asmr85/commonvoice corpus; --model {name} needs trigger folders")
    root = trigger_root(data)
    if kind == "mel":
        splits = mel_slice_sets(root, mel, seed=seed, max_slices_per_file=max_slices_per_file)
        return Corpus(splits, splits["train"].classes, kind, mel.slice_samples, mel.sample_rate, root)
    splits = audio_slice_sets(root, mel.sample_rate, mel.slice_samples / mel.sample_rate, seed=seed,
                              max_slices_per_file=max_slices_per_file)
    if kind == "mfcc":
        mfcc = MfccParams(sample_rate=mel.sample_rate)
        splits = {s: SliceSet(_mfcc_input(v.x, mfcc), v.y, v.sources, v.classes) for s, v in splits.items()}
    return Corpus(splits, splits["train"].classes, kind, mel.slice_samples, mel.sample_rate, root)


def _mfcc_input(clips: np.ndarray, params: MfccParams) -> np.ndarray:
    if len(clips) == 0:
        return np.zeros((0, params.n_mfcc, 1), np.float32)
    return mfcc_mean(clips, params)[..., None]


def _evenly(items, limit: int | None):
    """At most `limit` items, spread evenly over the sequence (deterministic subsampling)."""
    if limit is None or len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def lin_corpus(parent, params: MfccParams = MfccParams(), seed: int = 0, max_clips_per_recording: int | None = None,
               max_speech_clips: int | None = None, cache: bool = True) -> Corpus:
    """ASMR 10 s clips vs speech clips as (k, 128, 1) mean-MFCC inputs, classes ["asmr", "speech"].

    `max_clips_per_recording` takes that many evenly spaced 10 s clips from each ASMR recording and
    `max_speech_clips` that many evenly spread speech clips (both: all when None). Files are read
    one at a time, so hour-long recordings never sit in memory together.
    """
    parent = Path(parent)
    speech = _evenly(read_commonvoice(parent / "commonvoice"), max_speech_clips)
    examples = read_asmr85(parent / "asmr85") + speech
    classes = ["asmr", "speech"]
    clip = int(round(params.clip_seconds * params.sample_rate))
    settings = {**asdict(params), "seed": seed, "per_recording": max_clips_per_recording}
    cache_file = data_root() / "cache" / f"lin-{settings_key(settings, [e.path for e in examples])}.npz"
    if cache and cache_file.exists():
        stored = np.load(cache_file, allow_pickle=False)
        splits = {s: SliceSet(stored[f"{s}_x"], stored[f"{s}_y"], list(stored[f"{s}_sources"]), classes) for s in SPLITS}
        return Corpus(splits, classes, "mfcc", clip, params.sample_rate, parent)
    splits, bad = {}, []
    for split, members in split_by_source(examples, seed=seed).items():
        xs, ys, sources = [], [], []
        for ex in tqdm(members, desc=f"MFCC ({split})", unit="file", leave=False):
            scan = load_examples([ex], sr=params.sample_rate, progress=False)
            bad += scan.bad
            for _, audio in scan.loaded:
                # ASMR recordings are cut into Lin's 10 s clips; a speech clip (~5 s) is one input as it is.
                if ex.label == "asmr":
                    clips = fixed_clips(audio, clip)
                    clips = clips[_evenly(range(len(clips)), max_clips_per_recording)]
                else:
                    clips = audio[None, :clip]
                if len(clips):
                    xs.append(mfcc_mean(clips, params))
                    ys += [classes.index(ex.label)] * len(clips)
                    sources += [ex.source] * len(clips)
        x = np.concatenate(xs)[..., None] if xs else np.zeros((0, params.n_mfcc, 1), np.float32)
        splits[split] = SliceSet(x.astype(np.float32), np.asarray(ys, np.int64), sources, classes)
    if bad:
        print(ScanResult(bad=bad).report(), file=sys.stderr)
    if cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache_file, **{f"{s}_{k}": (v.x if k == "x" else v.y if k == "y" else np.asarray(v.sources, str))
                                for s, v in splits.items() for k in ("x", "y", "sources")})
    return Corpus(splits, classes, "mfcc", clip, params.sample_rate, parent)


def tf_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0):
    """Cached, (optionally) shuffled each epoch, batched and prefetched input pipeline."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        ds = ds.shuffle(max(1, len(y)), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
