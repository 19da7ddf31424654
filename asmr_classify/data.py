"""Model inputs for every classifier, split by source recording, and their tf.data pipelines.

This module says which layouts, labels and features each model reads; `audioprep.slices` splits,
cuts and caches. Two kinds of corpus:
- Lin 2024: a parent folder holding `asmr85/` (long ASMR recordings, cut into 10 s clips) and
  `commonvoice/` (read-speech clips, used whole); each clip becomes its 128-value mean MFCC.
  Splits are grouped by recording / speaker.
- DeepASMR: a trigger-folder layout (`<label>/<session>.wav`) or ESC-50, cut into ~1 s slices:
  log-mels for the mel models, raw audio for (a), and the mean MFCC of each raw slice when
  `lin_conv1d` runs on it (Table 2's extra row). ESC-50 is split by its published folds.
Lin's task also comes from plain folders: `asmr/` and `speech/` (or `positive=` names the ASMR folder and
every other folder is speech), cut into Lin's 10 s clips for `lin_conv1d`. The YAMNet family
(`embedding_corpus`) reads any of these as YAMNet embeddings of 0.975 s windows (asmr_classify.embeddings).
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from asmr_corpus.location import layout_dir
from asmr_corpus.writer import is_generated
from audioprep.datasets import Example, ReadOptions, detect_layout, read_asmr85, read_commonvoice
from audioprep.errors import UsageError
from audioprep.features import mfcc_mean
from audioprep.grouping import find_duplicates, merge_duplicate_sources, regroup
from audioprep.params import MelSliceParams, MfccParams
from audioprep.paths import data_root
from audioprep.slices import (
    SliceSet,
    audio_slice_sets,
    build_sets,
    check_split,
    clips,
    evenly,
    labelled_examples,
    mel_slice_sets,
)

LIN_LAYOUTS = ("asmr85", "commonvoice")
LIN_CLASSES = ("asmr", "speech")


@dataclass
class Corpus:
    """One model's train/val/test inputs plus what `predict` needs to cut a new file the same way."""

    splits: dict[str, SliceSet]
    classes: list[str]
    kind: str  # "mfcc" | "audio" | "mel"
    window_samples: int  # samples (at sample_rate) behind one model input
    sample_rate: int
    root: Path
    generated: bool  # the package's generated stand-in corpus, not real recordings
    need_val: bool = True  # False: a published-fold protocol without a validation fold (ESC-50)

    def describe(self) -> dict:
        counts = {s: v.counts() for s, v in self.splits.items()}
        clips = {s: len(set(v.files)) for s, v in self.splits.items()}
        return {"root": str(self.root), "classes": self.classes, "kind": self.kind,
                "window_samples": self.window_samples, "sample_rate": self.sample_rate, "counts": counts,
                "clips": clips, "generated_corpus": self.generated}

    def check(self, allow_degenerate: bool = False) -> str | None:
        """`check_split` of this corpus: refuses a degenerate split, or (allowed) the warning to print."""
        return check_split(self.splits, self.need_val, allow_degenerate)


def generated_data(root) -> bool:
    """Whether `root` (a layout folder, or Lin's parent of two) is the package's generated stand-in corpus."""
    root = Path(root)
    return is_generated(root) or all(is_generated(root / layout) for layout in LIN_LAYOUTS)


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


def labelled(root, options: ReadOptions = ReadOptions(), positive: str | None = None) -> tuple[list[Example], list[str]]:
    """A labelled folder's examples and sorted classes; with `positive`, ASMR vs speech: the recordings of that
    label are "asmr" and those of every other label "speech" (their sources stay as read)."""
    examples, classes = labelled_examples(root, options)
    if positive is None:
        return examples, classes
    if positive not in classes:
        example = LIN_CLASSES[0] if LIN_CLASSES[0] in classes else classes[0]
        raise UsageError(f"--positive {positive}: {root} has no label of that name (its labels: {', '.join(classes)}); "
                         f"pass --positive {shlex.quote(example)}")
    asmr, speech = LIN_CLASSES
    return [replace(ex, labels=(asmr if ex.label == positive else speech,)) for ex in examples], list(LIN_CLASSES)


def is_lin_task(classes) -> bool:
    return list(classes) == list(LIN_CLASSES)


def _check_lin_parent(options: ReadOptions, test_fold, val_fold, positive) -> None:
    """Lin's parent folder has its two classes as two layouts and no folds: only --group-by and sources.csv apply."""
    given = [flag for flag, value in (("--label-depth", options.label_depth), ("--esc10", options.esc10 or None),
                                      ("--test-fold", test_fold), ("--val-fold", val_fold), ("--positive", positive))
             if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: Lin's asmr85 + commonvoice corpus has its classes in its two "
                         f"folders and no folds (--group-by and sources.csv do apply); drop {' and '.join(given)}")


def load_corpus(name: str, data=None, seed: int = 0, max_slices_per_file: int | None = None,
                options: ReadOptions = ReadOptions(), test_fold: int | None = None,
                val_fold: int | None = None, positive: str | None = None) -> Corpus:
    """Inputs for model `name` from `data` (see the module docstring for the layouts); `options` say how
    a labelled folder is read, `test_fold`/`val_fold` pick ESC-50's folds (default: test 1, no validation),
    `positive` names the ASMR folder of an ASMR-vs-speech folder (`labelled`)."""
    from asmr_classify.models import INPUT_KIND  # Keras: loaded only by callers that build models

    kind = INPUT_KIND[name]
    mel = MelSliceParams()
    if kind == "mfcc" and (data is None or is_lin_parent(data)):
        _check_lin_parent(options, test_fold, val_fold, positive)
        return lin_corpus(lin_parent(data), seed=seed, group_by=options.group_by)
    if data is not None and is_lin_parent(data) and not (Path(data) / "deepasmr").is_dir():
        raise UsageError(f"{data}: holds Lin's asmr85/commonvoice corpus, which --model {name} cannot read (it needs "
                         "label folders; lin_conv1d and yamnet read both); use --model lin_conv1d")
    root = trigger_root(data)
    folds = {"test_fold": test_fold, "val_fold": val_fold, "options": options}
    need_val = not (detect_layout(root) == "esc50" and val_fold is None)
    if kind == "mfcc":
        examples, classes = labelled(root, options, positive)
        if is_lin_task(classes):
            return lin_folder_corpus(root, examples, seed=seed, max_clips_per_recording=max_slices_per_file,
                                     test_fold=test_fold, val_fold=val_fold, need_val=need_val)
    elif positive is not None:
        raise UsageError(f"--positive {positive}: --model {name} learns each label folder as a class of its own "
                         "(--model lin_conv1d and yamnet learn ASMR vs speech); drop --positive")
    if kind == "mel":
        splits = mel_slice_sets(root, mel, seed=seed, max_slices_per_file=max_slices_per_file, **folds)
        return Corpus(splits, splits["train"].classes, kind, mel.slice_samples, mel.sample_rate, root,
                      generated_data(root), need_val)
    splits = audio_slice_sets(root, mel.sample_rate, mel.slice_samples / mel.sample_rate, seed=seed,
                              max_slices_per_file=max_slices_per_file, **folds)
    if kind == "mfcc":
        mfcc = MfccParams(sample_rate=mel.sample_rate)
        splits = {s: SliceSet(_mfcc_input(v.x, mfcc), v.y, v.sources, v.classes, v.files) for s, v in splits.items()}
    return Corpus(splits, splits["train"].classes, kind, mel.slice_samples, mel.sample_rate, root,
                  generated_data(root), need_val)


def embedding_corpus(data, embed, seed: int = 0, max_windows_per_file: int | None = None,
                     options: ReadOptions = ReadOptions(), test_fold: int | None = None, val_fold: int | None = None,
                     positive: str | None = None) -> Corpus:
    """The YAMNet family's inputs: per-window embeddings (`embed`, an asmr_classify.embeddings.EmbeddingCache) of
    Lin's parent folder or of a labelled folder read as `load_corpus` reads it (`positive`: ASMR vs speech),
    at most `max_windows_per_file` evenly spread windows per recording. Kind "audio": the saved model takes
    `embed.window` samples at `embed.sample_rate`."""
    if data is not None and is_lin_parent(data) and not (Path(data) / "deepasmr").is_dir():
        _check_lin_parent(options, test_fold, val_fold, positive)
        root, examples, classes, need_val = Path(data), lin_examples(data, options.group_by), list(LIN_CLASSES), True
    else:
        root = trigger_root(data)
        examples, classes = labelled(root, options, positive)
        need_val = not (detect_layout(root) == "esc50" and val_fold is None)
    def known(ex):  # a file embedded before is not decoded again
        cached = embed.cached(ex.path)
        return None if cached is None else evenly(cached, max_windows_per_file)

    splits = build_sets(
        examples, classes, embed.sample_rate, lambda ex, audio: evenly(embed.embeddings(ex.path, audio), max_windows_per_file),
        shape=(embed.size,), name="yamnet", settings={}, seed=seed, cache=False, min_samples=lambda _: embed.window,
        test_fold=test_fold, val_fold=val_fold, known=known,
    )
    return Corpus(splits, classes, "audio", embed.window, embed.sample_rate, root, generated_data(root), need_val)


def _mfcc_input(batch: np.ndarray, params: MfccParams) -> np.ndarray:
    """(k, n) audio -> (k, n_mfcc, 1) clip-mean MFCCs, the Conv1D's input (k may be 0)."""
    if len(batch) == 0:
        return np.zeros((0, params.n_mfcc, 1), np.float32)
    return mfcc_mean(batch, params)[..., None]


def lin_examples(parent, group_by: str | None = None, max_speech_clips: int | None = None) -> list[Example]:
    """Lin's parent folder read: ASMR-85's recordings ("asmr") and `max_speech_clips` evenly spread Common Voice
    clips ("speech", all when None), sources renamed by `parent/sources.csv` or `group_by`, copies merged."""
    parent = Path(parent)
    examples = read_asmr85(parent / "asmr85") + evenly(read_commonvoice(parent / "commonvoice"), max_speech_clips)
    examples = regroup(examples, parent, group_by)
    return merge_duplicate_sources(examples, find_duplicates(ex.path for ex in examples))


def lin_corpus(parent, params: MfccParams = MfccParams(), seed: int = 0, max_clips_per_recording: int | None = None,
               max_speech_clips: int | None = None, cache: bool = True, group_by: str | None = None) -> Corpus:
    """ASMR 10 s clips vs speech clips as (k, 128, 1) mean-MFCC inputs, classes ["asmr", "speech"].

    `max_clips_per_recording` takes that many evenly spaced 10 s clips from each ASMR recording
    (all when None); `lin_examples` says which files and sources. An ASMR recording shorter than one clip
    is repeat-padded to one.
    """
    parent = Path(parent)
    examples = lin_examples(parent, group_by, max_speech_clips)
    clip = int(round(params.clip_seconds * params.sample_rate))

    def inputs(example, audio: np.ndarray) -> np.ndarray:
        # ASMR recordings are cut into Lin's 10 s clips; a speech clip (~5 s) is one input as it is.
        cut = clips(audio, clip, max_clips_per_recording) if example.label == "asmr" else audio[None, :clip]
        return _mfcc_input(cut, params)

    classes = list(LIN_CLASSES)
    splits = build_sets(
        examples, classes, params.sample_rate, inputs, shape=(params.n_mfcc, 1), name="lin",
        settings={**asdict(params), "per_recording": max_clips_per_recording},
        seed=seed, cache=cache, min_samples=lambda ex: clip if ex.label == "asmr" else 0,
    )
    return Corpus(splits, classes, "mfcc", clip, params.sample_rate, parent, generated_data(parent))


def lin_folder_corpus(root, examples: list[Example], params: MfccParams = MfccParams(), seed: int = 0,
                      max_clips_per_recording: int | None = None, test_fold: int | None = None,
                      val_fold: int | None = None, need_val: bool = True) -> Corpus:
    """Lin's task from plain folders (`labelled` examples of "asmr" and "speech"): every recording, of either
    class, cut into Lin's 10 s clips (at most `max_clips_per_recording`, evenly spread; one shorter than a
    clip repeat-padded to one, as `predict` pads a short file), each clip's mean MFCC."""
    clip = int(round(params.clip_seconds * params.sample_rate))
    splits = build_sets(
        examples, list(LIN_CLASSES), params.sample_rate,
        lambda _, audio: _mfcc_input(clips(audio, clip, max_clips_per_recording), params),
        shape=(params.n_mfcc, 1), name="lin_folder", seed=seed, min_samples=lambda _: clip,
        settings={**asdict(params), "per_recording": max_clips_per_recording, "labels": [ex.label for ex in examples]},
        test_fold=test_fold, val_fold=val_fold,
    )
    return Corpus(splits, list(LIN_CLASSES), "mfcc", clip, params.sample_rate, Path(root), generated_data(root), need_val)


def tf_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0):
    """Cached, (optionally) shuffled each epoch, batched and prefetched input pipeline."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        ds = ds.shuffle(max(1, len(y)), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
