"""Classifying a person's own files: class probabilities, a per-window timeline, the majority label.

A file of any length is decoded block by block at the model's rate (any rate, mono or stereo,
wav/flac/ogg/mp3) and cut into windows of the model's input length (overlapping, the last one
repeat-padded; a short file gives one repeat-padded window). Decoding, featurising and the model
run as a pipeline of three threads, a batch of windows at a time with one model call per batch, so
memory does not grow with the file and both cores stay busy. The windows and probabilities equal
those of the whole decoded file.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from asmr_classify.params import PREDICT
from asmr_training.model_files import load_model, resolve_model
from asmr_training.run_dir import PARAMS
from audioprep.cli import fraction
from audioprep.errors import AudioError, UsageError
from audioprep.features import log_mel, mfcc_mean
from audioprep.files import read_json
from audioprep.params import MelSliceParams, MfccParams
from audioprep.quality import Quality, check_quality
from audioprep.segment import batched_windows, window_bounds, window_hop
from audioprep.stream import AudioStream, DecodeStatus, prefetch

BATCH = 32  # windows per model call: 33 s of audio for a DeepASMR slice; 45 MB of pipeline at most


@dataclass
class Classifier:
    """A trained model with what it takes to cut and featurise new audio the way it was trained."""

    model: object
    classes: list[str]
    kind: str
    window_samples: int
    sample_rate: int
    embedder: object | None = None  # the model with its "embedding" layer as a second output, if it has one
    generated: bool = False  # trained on the generated stand-in corpus (params.json): a code-path model


@dataclass(slots=True)
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
    truncated: str | None = None  # DecodeStatus.note() when the file stopped before its header's end
    warnings: list[str] = field(default_factory=list)  # audioprep.quality: short, silent, truncated


@dataclass
class Timeline:
    """Class probabilities of a recording's windows and what places them in time: window i covers
    samples [i * hop, i * hop + window) at `sample_rate`, capped at the `samples` decoded."""

    probs: np.ndarray  # (windows, classes)
    classes: list[str]
    sample_rate: int
    window_samples: int
    hop_samples: int
    samples: int
    status: DecodeStatus | None = None
    embeddings: np.ndarray | None = None  # (windows, dim) float16 penultimate-layer outputs, when the model has them

    @property
    def quality(self) -> Quality | None:
        """Whether the recording is too short, silent or cut short for its labels to mean much."""
        return None if self.status is None else check_quality(self.status, self.window_samples / self.sample_rate)

    def windows(self, threshold: float = 0.0) -> list[Window]:
        """Each window's most probable label; windows whose top probability is under `threshold` are left out."""
        probs = np.asarray(self.probs, np.float32)
        picks = probs.argmax(axis=1)
        confidence = probs[np.arange(len(probs)), picks]
        starts, ends = window_bounds(len(probs), self.window_samples, self.hop_samples, self.sample_rate,
                                     total=self.samples)
        return [Window(float(s), float(e), self.classes[i], float(c))
                for s, e, i, c in zip(starts, ends, picks, confidence, strict=True) if c >= threshold]


class StageClock:
    """Seconds spent in each stage of the pipeline, and the wall time since the clock was made.
    Stages run in different threads at once, so they may add up to more than the wall time; the
    shares say where the work goes."""

    STAGES = ("load", "hash", "decode", "features", "model", "database")

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def merge(self, seconds: dict[str, float]) -> None:
        for stage, value in seconds.items():
            self.add(stage, value)

    def timed(self, stage: str, items: Iterable) -> Iterator:
        """`items`, the time taken to produce each one counted to `stage`."""
        iterator = iter(items)
        while True:
            start = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self.add(stage, time.perf_counter() - start)
            yield item

    def map(self, stage: str, fn: Callable, items: Iterable) -> Iterator:
        """fn(item) for each item, the calls counted to `stage` (waiting for `items` is not)."""
        for item in items:
            start = time.perf_counter()
            out = fn(item)
            self.add(stage, time.perf_counter() - start)
            yield out

    def report(self) -> str:
        total = sum(self.seconds.values()) or 1.0
        parts = [f"{stage} {self.seconds[stage]:.2f} s ({100 * self.seconds[stage] / total:.0f} %)"
                 for stage in self.STAGES if stage in self.seconds]
        wall = time.perf_counter() - self._start
        return f"time per stage ({wall:.2f} s wall): " + ", ".join(parts)


def _infer_kind(input_shape) -> tuple[str, int]:
    """For a bare model file with no params.json beside it: read the input kind off its shape."""
    shape = tuple(input_shape[1:])
    if shape == (MfccParams().n_mfcc, 1):
        return "mfcc", int(MfccParams().clip_seconds * MfccParams().sample_rate)
    if len(shape) == 1:
        return "audio", shape[0]
    return "mel", MelSliceParams().slice_samples


def load_classifier(path) -> Classifier:
    """`path` is a run folder or a .keras file (classes and windowing from the run's params.json), or an
    exported .tflite (from its metadata)."""
    if Path(path).suffix == ".tflite":
        from asmr_classify.tflite_classifier import load_tflite_classifier

        return load_tflite_classifier(path)
    file = resolve_model(path)
    model = load_model(file)
    meta_file = file.parent / PARAMS
    meta = read_json(meta_file) if meta_file.exists() else {}
    kind, window = _infer_kind(model.input_shape)
    classes = meta.get("classes") or [f"class_{i}" for i in range(model.output_shape[-1])]
    from asmr_classify.data import generated_data

    generated = meta.get("generated_corpus", "root" in meta and generated_data(meta["root"]))
    return Classifier(model, list(classes), meta.get("kind", kind), int(meta.get("window_samples", window)),
                      int(meta.get("sample_rate", MelSliceParams().sample_rate)), _with_embedding(model), generated)


def _with_embedding(model):
    """The model with its penultimate "embedding" layer as a second output (None if it has none): one
    forward pass gives the probabilities and what the catalogue keeps for "more like this"."""
    import keras

    try:
        layer = model.get_layer("embedding")
    except ValueError:
        return None
    return keras.Model(model.inputs, [model.output, layer.output])


def predict_batched(model, x, batch_size: int = 256) -> np.ndarray:
    """A Keras model's outputs for inputs `x`, `batch_size` at a time through its compiled predict function
    (`predict_on_batch`): the graph and batches of `model.predict` without its per-call dataset and callback
    set-up, which cost ~0.2 s a call (table 4 judges ~80 sets of generated slices)."""
    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    return np.concatenate([np.asarray(model.predict_on_batch(x[i : i + batch_size]))
                           for i in range(0, len(x), batch_size)])


def predict_proba(model, x, batch_size: int = 256) -> np.ndarray:
    """(k, n_classes) class probabilities of model inputs (a keras.Model or a Classifier)."""
    return predict_batched(getattr(model, "model", model), x, batch_size)


def predict_batch(clf: Classifier, x: np.ndarray) -> np.ndarray:
    """One call of the model's compiled predict function on one batch (no per-call dataset set-up)."""
    return np.asarray(clf.model.predict_on_batch(np.asarray(x, np.float32)), np.float32)


def _probs_and_embeddings(clf: Classifier, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if clf.embedder is None:
        return predict_batch(clf, x), None
    probs, embeddings = clf.embedder.predict_on_batch(np.asarray(x, np.float32))
    return np.asarray(probs, np.float32), np.asarray(embeddings, np.float16)


def features(clf: Classifier, windows: np.ndarray) -> np.ndarray:
    """Raw audio windows (k, window_samples) -> the classifier's inputs."""
    if clf.kind == "mel":
        return log_mel(windows, MelSliceParams(sample_rate=clf.sample_rate))
    if clf.kind == "mfcc":
        return mfcc_mean(windows, MfccParams(sample_rate=clf.sample_rate))[..., None]
    return windows.astype(np.float32)


def classify_stream(clf: Classifier, stream: AudioStream, overlap: float = PREDICT.overlap,
                    clock: StageClock | None = None) -> Timeline:
    """The stream's windows classified in batches: decoding, featurising and the model each in a
    thread of their own, a batch or two apart."""
    clock = clock or StageClock()
    hop = window_hop(clf.window_samples, overlap)
    cut = (windows for _, windows in batched_windows(stream, clf.window_samples, hop, BATCH))
    windows = prefetch(clock.timed("decode", cut))
    with closing(prefetch(clock.map("features", partial(features, clf), windows))) as inputs:
        # closing: the threads stop on an error
        probs, embeddings = zip(*clock.map("model", partial(_probs_and_embeddings, clf), inputs), strict=True)
    return Timeline(np.concatenate(probs), clf.classes, clf.sample_rate, clf.window_samples, hop, stream.samples,
                    stream.status, None if embeddings[0] is None else np.concatenate(embeddings))


def timeline_of(clf: Classifier, path, overlap: float = PREDICT.overlap, clock: StageClock | None = None) -> Timeline:
    """A file's window probabilities, streamed; AudioError naming the file if it cannot be decoded."""
    return classify_stream(clf, AudioStream(path, sr=clf.sample_rate), overlap, clock)


def file_result(path, timeline: Timeline) -> FileResult:
    probs = timeline.probs
    picks = probs.argmax(axis=1)
    mean = probs.mean(axis=0)
    counts = Counter(picks.tolist())
    top = max(counts.values())
    # A tie between window labels goes to the one with the higher mean probability.
    majority = max((i for i, c in counts.items() if c == top), key=lambda i: mean[i])
    classes = timeline.classes
    quality = timeline.quality
    return FileResult(str(path), classes[int(mean.argmax())], {c: float(v) for c, v in zip(classes, mean, strict=True)},
                      classes[majority], timeline.windows(), quality and quality.truncated_note,
                      quality.warnings if quality else [])


def classify_file(clf: Classifier, path, overlap: float = PREDICT.overlap, clock: StageClock | None = None) -> FileResult:
    return file_result(path, timeline_of(clf, path, overlap, clock))


def merge_windows(windows: list[Window]) -> list[Window]:
    """Adjacent windows of one label become one segment (mean confidence); overlaps are cut at the
    next segment's start so segments never overlap, and a gap (a window left out) ends a segment."""
    segments: list[list[Window]] = []
    for w in windows:
        if segments and segments[-1][-1].label == w.label and w.start <= segments[-1][-1].end:
            segments[-1].append(w)
        else:
            segments.append([w])
    merged = []
    for i, group in enumerate(segments):
        end = group[-1].end if i + 1 == len(segments) else min(group[-1].end, segments[i + 1][0].start)
        merged.append(Window(group[0].start, end, group[0].label, float(np.mean([w.confidence for w in group]))))
    return merged


def segment_embeddings(timeline: Timeline, threshold: float = 0.0) -> tuple[list[Window], np.ndarray | None]:
    """merge_windows(timeline.windows(threshold)) and, when the timeline has window embeddings, each
    segment's mean embedding scaled to unit length (float16), so cosine similarity is a dot product."""
    segments = merge_windows(timeline.windows(threshold))
    if timeline.embeddings is None or not segments:
        return segments, None
    probs = np.asarray(timeline.probs, np.float32)
    kept = np.flatnonzero(probs.max(axis=1) >= threshold)  # the windows `windows(threshold)` keeps
    starts, _ = window_bounds(len(probs), timeline.window_samples, timeline.hop_samples, timeline.sample_rate,
                              total=timeline.samples)
    # a kept window lies in the segment whose [start, end) holds its start
    owner = np.searchsorted([s.start for s in segments], starts[kept], side="right") - 1
    sums = np.zeros((len(segments), timeline.embeddings.shape[1]), np.float64)
    np.add.at(sums, owner, timeline.embeddings[kept].astype(np.float64))
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return segments, (sums / np.where(norms > 0, norms, 1.0)).astype(np.float16)


def format_result(result: FileResult) -> str:
    probs = ", ".join(f"{c} {p:.3f}" for c, p in sorted(result.probabilities.items(), key=lambda kv: -kv[1]))
    lines = [f"{result.path}: {result.label} ({result.probabilities[result.label]:.3f})", f"  probabilities: {probs}"]
    if len(result.windows) > 1:
        lines.append(f"  majority over {len(result.windows)} windows: {result.majority}")
        lines += [f"  {w.start:8.2f} {w.end:8.2f}  {w.label:<24} {w.confidence:.3f}" for w in result.windows]
    return "\n".join(lines)


def check_overlap(overlap: float) -> float:
    if not 0.0 <= overlap < 1.0:
        raise UsageError(f"--overlap {overlap:g}: must be in [0, 1)")
    return overlap


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="run folder, .keras file or exported .tflite")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--overlap", type=fraction, default=PREDICT.overlap,
                        help=f"window overlap in [0, 1) (default {PREDICT.overlap:g})")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file instead of text")
    parser.add_argument("--timing", action="store_true", help="print the seconds spent per stage on stderr")


def main(args) -> int:
    clock = StageClock()
    with clock.stage("load"):
        clf = load_classifier(args.model)
    if clf.generated:
        print(f"warning: {args.model} was trained on the generated corpus: a code-path model, not a detector "
              "for real audio (train on real recordings with --data)", file=sys.stderr)
    failed = 0
    for path in args.files:
        try:
            result = classify_file(clf, path, args.overlap, clock)
        except AudioError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps(asdict(result)) if args.json else format_result(result), flush=True)
        for line in result.warnings:
            print(f"warning: {line}", file=sys.stderr)
    if args.timing:
        print(clock.report(), file=sys.stderr)
    if failed:
        print(f"{failed} of {len(args.files)} files could not be classified", file=sys.stderr)
    return 1 if failed else 0
