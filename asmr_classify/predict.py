"""Classifying a person's own files: class probabilities, a per-window timeline, the majority label.

A file is loaded at the model's rate (any rate, mono or stereo, wav/flac/ogg/mp3), cut into
windows of the model's input length (overlapping, the last one repeat-padded; a short file gives
one repeat-padded window), turned into the model's features, and classified window by window.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from audioprep.errors import AudioError
from audioprep.features import log_mel, mfcc_mean
from audioprep.io import load_audio
from audioprep.params import MelSliceParams, MfccParams
from audioprep.runs import PARAMS, load_model, resolve_model
from audioprep.segment import sliding_windows, window_bounds, window_hop


@dataclass
class Classifier:
    """A trained model with what it takes to cut and featurise new audio the way it was trained."""

    model: object
    classes: list[str]
    kind: str
    window_samples: int
    sample_rate: int


@dataclass
class Window:
    start: float
    end: float
    label: str
    confidence: float


@dataclass
class FileResult:
    path: str
    label: str  # argmax of the window-averaged probabilities
    probabilities: dict[str, float]
    majority: str  # most frequent window label
    windows: list[Window] = field(default_factory=list)


def _infer_kind(input_shape) -> tuple[str, int]:
    """For a bare model file with no params.json beside it: read the input kind off its shape."""
    shape = tuple(input_shape[1:])
    if shape == (MfccParams().n_mfcc, 1):
        return "mfcc", int(MfccParams().clip_seconds * MfccParams().sample_rate)
    if len(shape) == 1:
        return "audio", shape[0]
    return "mel", MelSliceParams().slice_samples


def load_classifier(path) -> Classifier:
    """`path` is a run folder or a .keras file; classes and windowing come from the run's params.json."""
    file = resolve_model(path)
    model = load_model(file)
    meta_file = file.parent / PARAMS
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    kind, window = _infer_kind(model.input_shape)
    classes = meta.get("classes") or [f"class_{i}" for i in range(model.output_shape[-1])]
    return Classifier(model, list(classes), meta.get("kind", kind), int(meta.get("window_samples", window)),
                      int(meta.get("sample_rate", MelSliceParams().sample_rate)))


def predict_proba(model, x, batch_size: int = 256) -> np.ndarray:
    """(k, n_classes) class probabilities of a batch of model inputs (a keras.Model or a Classifier)."""
    model = getattr(model, "model", model)
    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def features(clf: Classifier, windows: np.ndarray) -> np.ndarray:
    """Raw audio windows (k, window_samples) -> the classifier's inputs."""
    if clf.kind == "mel":
        return log_mel(windows, MelSliceParams(sample_rate=clf.sample_rate))
    if clf.kind == "mfcc":
        return mfcc_mean(windows, MfccParams(sample_rate=clf.sample_rate))[..., None]
    return windows.astype(np.float32)


def classify_audio(clf: Classifier, audio: np.ndarray, overlap: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mono audio at clf.sample_rate -> (window probabilities, starts, ends in seconds)."""
    windows = sliding_windows(audio, clf.window_samples, overlap)
    probs = predict_proba(clf, features(clf, windows))
    starts, ends = window_bounds(len(windows), clf.window_samples, window_hop(clf.window_samples, overlap),
                                 clf.sample_rate, total=len(audio))
    return probs, starts, ends


def classify_file(clf: Classifier, path, overlap: float = 0.5) -> FileResult:
    audio, _ = load_audio(path, sr=clf.sample_rate, mono=True)
    probs, starts, ends = classify_audio(clf, audio, overlap)
    picks = probs.argmax(axis=1)
    windows = [Window(float(s), float(e), clf.classes[i], float(p[i]))
               for s, e, i, p in zip(starts, ends, picks, probs, strict=True)]
    mean = probs.mean(axis=0)
    counts = Counter(picks.tolist())
    top = max(counts.values())
    # A tie between window labels goes to the one with the higher mean probability.
    majority = max((i for i, c in counts.items() if c == top), key=lambda i: mean[i])
    return FileResult(str(path), clf.classes[int(mean.argmax())],
                      {c: float(v) for c, v in zip(clf.classes, mean, strict=True)}, clf.classes[majority], windows)


def merge_windows(windows: list[Window]) -> list[Window]:
    """Adjacent windows of one label become one segment (mean confidence); overlaps are cut at the
    next segment's start so segments never overlap."""
    segments: list[list[Window]] = []
    for w in windows:
        if segments and segments[-1][-1].label == w.label:
            segments[-1].append(w)
        else:
            segments.append([w])
    merged = []
    for i, group in enumerate(segments):
        end = group[-1].end if i + 1 == len(segments) else min(group[-1].end, segments[i + 1][0].start)
        merged.append(Window(group[0].start, end, group[0].label, float(np.mean([w.confidence for w in group]))))
    return merged


def format_result(result: FileResult) -> str:
    probs = ", ".join(f"{c} {p:.3f}" for c, p in sorted(result.probabilities.items(), key=lambda kv: -kv[1]))
    lines = [f"{result.path}: {result.label} ({result.probabilities[result.label]:.3f})", f"  probabilities: {probs}"]
    if len(result.windows) > 1:
        lines.append(f"  majority over {len(result.windows)} windows: {result.majority}")
        lines += [f"  {w.start:8.2f} {w.end:8.2f}  {w.label:<24} {w.confidence:.3f}" for w in result.windows]
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="run folder or .keras file")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--overlap", type=float, default=0.5, help="window overlap in [0, 1) (default 0.5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file instead of text")


def main(args) -> int:
    clf = load_classifier(args.model)
    failed = 0
    for path in args.files:
        try:
            result = classify_file(clf, path, args.overlap)
        except AudioError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps(asdict(result)) if args.json else format_result(result), flush=True)
    if failed:
        print(f"{failed} of {len(args.files)} files could not be classified", file=sys.stderr)
    return 1 if failed else 0
