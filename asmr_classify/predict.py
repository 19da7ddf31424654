"""Classifying a person's own files: class probabilities, a per-window timeline, the majority label,
and YAMNet's AudioSet tags beside them.

A file of any length is decoded block by block at the model's rate (any rate, mono or stereo,
wav/flac/ogg/mp3) and cut into windows of the model's input length (overlapping, the last one
repeat-padded; a short file gives one repeat-padded window). Decoding, featurising and the model
run as a pipeline of three threads, a batch of windows at a time with one model call per batch, so
memory does not grow with the file and both cores stay busy. The windows and probabilities equal
those of the whole decoded file.

Without --model the classifier is the ASMR / speech detector on YAMNet's AudioSet head
(`speech_detector`), which needs no training. A window can also be "none of these": `other` when the
model's top probability is under its abstain threshold (params.json's `abstain_threshold`, else
`ABSTAIN.default_threshold`; the detector says `unsure`), and `silent` when it is digital silence (no
sample above `audioprep.quality.SILENCE_PEAK`), whatever the model says.
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
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from asmr_audioset.abstain import KEY as ABSTAIN_KEY
from asmr_audioset.abstain import OTHER
from asmr_audioset.lite_yamnet import Tag, TagTrack, format_tags
from asmr_audioset.params import ABSTAIN, TAGS
from asmr_classify.params import PREDICT
from asmr_training.model_files import load_model, resolve_model
from asmr_training.run_dir import PARAMS
from asmr_training.run_record import generated_corpus_warning
from audioprep import blas
from audioprep.cli import fraction, int_at_least
from audioprep.errors import AudioError, UsageError
from audioprep.features import log_mel, mfcc_mean
from audioprep.files import read_json
from audioprep.params import MelSliceParams, MfccParams
from audioprep.quality import SILENCE_PEAK, SILENT, Quality, check_quality
from audioprep.segment import batched_windows, window_bounds, window_hop
from audioprep.stream import AudioStream, DecodeStatus, prefetch

if TYPE_CHECKING:
    from asmr_classify.shared_decode import SharedDecode

BATCH = 32  # windows per model call: 33 s of audio for a DeepASMR slice; 45 MB of pipeline at most
SEGMENT_CHUNK = 1024  # segments whose mean embeddings are summed at a time


@dataclass
class Scores:
    """One model call on a batch of windows: probabilities, and what else the call gave."""

    probs: np.ndarray  # (k, classes)
    embeddings: np.ndarray | None = None  # (k, dim) float16
    tags: tuple[np.ndarray, np.ndarray] | None = None  # audioset.top_classes of the windows, when the model is YAMNet
    tag_source: str | None = None  # the network that gave `tags` (lite_yamnet.network_id)


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
    abstain: float = 0.0  # a window whose top probability is under this is `abstain_label` (0: never)
    abstain_label: str = OTHER
    gives_tags: ClassVar[bool] = False  # its Scores hold YAMNet's tags (it is YAMNet): no tag pass beside it

    def inputs(self, windows: np.ndarray):
        """Raw audio windows -> what `score` takes; run in the featurising thread, beside the model's."""
        return features(self, windows)

    def score(self, x: np.ndarray) -> Scores:
        """The model on one batch of its inputs, one call of its compiled predict function."""
        if self.embedder is None:
            return Scores(predict_batch(self, x))
        probs, embeddings = self.embedder.predict_on_batch(np.asarray(x, np.float32))
        return Scores(np.asarray(probs, np.float32), np.asarray(embeddings, np.float16))


@dataclass(slots=True)
class Window:
    start: float
    end: float
    label: str
    confidence: float
    tags: list[Tag] = field(default_factory=list)  # YAMNet's top AudioSet classes over the window


@dataclass
class FileResult:
    path: str
    label: str  # argmax of the mean probabilities of the sounding windows; abstain label or `silent` if none
    probabilities: dict[str, float]
    majority: str  # most frequent window label
    windows: list[Window] = field(default_factory=list)
    truncated: str | None = None  # DecodeStatus.note() when the file stopped before its header's end
    warnings: list[str] = field(default_factory=list)  # audioprep.quality: short, silent, truncated
    tags: list[Tag] = field(default_factory=list)  # YAMNet's top AudioSet classes over the whole file
    confidence: float = 0.0  # the mean probability behind `label`: the top one when abstaining, 0 when silent


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
    silent: np.ndarray | None = None  # (windows,) bool: digital silence (None: not known)
    abstain: float = 0.0  # the classifier's: top probability under it -> `abstain_label`
    abstain_label: str = OTHER
    tags: TagTrack | None = None  # YAMNet's AudioSet classes over the recording

    @property
    def quality(self) -> Quality | None:
        """Whether the recording is too short, silent or cut short for its labels to mean much."""
        return None if self.status is None else check_quality(self.status, self.window_samples / self.sample_rate)

    @property
    def sounding(self) -> np.ndarray:
        """(windows,) bool: the windows that are not digital silence."""
        return np.ones(len(self.probs), bool) if self.silent is None else ~np.asarray(self.silent, bool)

    def verdicts(self) -> tuple[list[str], np.ndarray]:
        """Each window's label and confidence: the most probable class and its probability, the abstain label
        when that is under `abstain`, or `silent` (confidence 0) for digital silence, whatever the model said."""
        probs = np.asarray(self.probs, np.float32)
        picks = probs.argmax(axis=1)
        confidence = probs[np.arange(len(probs)), picks]
        labels = [self.classes[i] if c >= self.abstain else self.abstain_label
                  for i, c in zip(picks, confidence, strict=True)]
        sounding = self.sounding
        for i in np.flatnonzero(~sounding):
            labels[i] = SILENT
        return labels, np.where(sounding, confidence, 0.0)

    def windows(self, threshold: float = 0.0) -> list[Window]:
        """Each window's verdict; windows whose confidence is under `threshold` are left out."""
        labels, confidence = self.verdicts()
        starts, ends = window_bounds(len(labels), self.window_samples, self.hop_samples, self.sample_rate,
                                     total=self.samples)
        return [Window(float(s), float(e), label, float(c))
                for s, e, label, c in zip(starts, ends, labels, confidence, strict=True) if c >= threshold]


class StageClock:
    """Seconds spent in each stage of the pipeline, and the wall time since the clock was made.
    Stages run in different threads at once, so they may add up to more than the wall time; the
    shares say where the work goes."""

    STAGES = ("load", "hash", "decode", "features", "model", "tags", "database")

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
    """`path` is a run folder or a .keras file (classes, windowing and abstain threshold from the run's
    params.json), an exported .tflite (from its metadata), or None: the ASMR / speech detector."""
    if path is None:
        from asmr_classify.speech_detector import load_detector

        return load_detector()
    if Path(path).suffix == ".tflite":
        from asmr_classify.tflite_classifier import load_tflite_classifier

        return load_tflite_classifier(path)
    import lean.front_end  # noqa: F401  registers YAMNet's log-mel layer, which the yamnet family's models hold

    file = resolve_model(path)
    model = load_model(file)
    meta_file = file.parent / PARAMS
    meta = read_json(meta_file) if meta_file.exists() else {}
    kind, window = _infer_kind(model.input_shape)
    classes = meta.get("classes") or [f"class_{i}" for i in range(model.output_shape[-1])]
    from asmr_classify.data import generated_data

    generated = meta.get("generated_corpus", "root" in meta and generated_data(meta["root"]))
    return Classifier(model, list(classes), meta.get("kind", kind), int(meta.get("window_samples", window)),
                      int(meta.get("sample_rate", MelSliceParams().sample_rate)), _with_embedding(model), generated,
                      float(meta.get(ABSTAIN_KEY, ABSTAIN.default_threshold)))


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


def features(clf: Classifier, windows: np.ndarray) -> np.ndarray:
    """Raw audio windows (k, window_samples) -> the classifier's inputs."""
    if clf.kind == "mel":
        return log_mel(windows, MelSliceParams(sample_rate=clf.sample_rate))
    if clf.kind == "mfcc":
        return mfcc_mean(windows, MfccParams(sample_rate=clf.sample_rate))[..., None]
    return windows.astype(np.float32)


def _featurised(clf: Classifier, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's inputs for raw windows, and which windows are digital silence."""
    return clf.inputs(windows), np.abs(windows).max(axis=1) <= SILENCE_PEAK


def _scored(clf: Classifier, batch: tuple[np.ndarray, np.ndarray]) -> tuple[Scores, np.ndarray]:
    inputs, silent = batch
    return clf.score(inputs), silent


def classify_stream(clf: Classifier, stream: AudioStream | SharedDecode, overlap: float = PREDICT.overlap,
                    clock: StageClock | None = None) -> Timeline:
    """The stream's windows classified in batches: decoding, featurising and the model each in a
    thread of their own, a batch or two apart. A model that is YAMNet gives the tag track too."""
    clock = clock or StageClock()
    hop = window_hop(clf.window_samples, overlap)
    cut = (windows for _, windows in batched_windows(stream, clf.window_samples, hop, BATCH))
    windows = prefetch(clock.timed("decode", cut))
    with closing(prefetch(clock.map("features", partial(_featurised, clf), windows))) as inputs:
        # closing: the threads stop on an error
        scored, silent = zip(*clock.map("model", partial(_scored, clf), inputs), strict=True)
    embeddings = None if scored[0].embeddings is None else np.concatenate([s.embeddings for s in scored])
    tags = None if scored[0].tags is None else TagTrack.of([s.tags for s in scored], hop, source=scored[0].tag_source)
    return Timeline(np.concatenate([s.probs for s in scored]), clf.classes, clf.sample_rate, clf.window_samples, hop,
                    stream.samples, stream.status, embeddings, np.concatenate(silent), clf.abstain, clf.abstain_label,
                    tags)


def timeline_of(clf: Classifier, path, overlap: float = PREDICT.overlap, clock: StageClock | None = None,
                tags: bool = True) -> Timeline:
    """A file's window probabilities, streamed, and (`tags`) YAMNet's tag track: the model's own when it is
    YAMNet, else YAMNet's in a thread of its own, fed from the one decode the model reads (`shared_decode`).
    AudioError naming the file if it cannot be decoded."""
    clock = clock or StageClock()
    with blas.one_thread():  # the pipeline's threads share the cores, not BLAS's
        if not tags or clf.gives_tags:
            return classify_stream(clf, AudioStream(path, sr=clf.sample_rate), overlap, clock)
        from asmr_classify.shared_decode import SharedDecode, TagFeed

        feed = TagFeed()
        try:
            timeline = classify_stream(clf, SharedDecode(path, clf.sample_rate, feed), overlap, clock)
            timeline.tags = feed.result()
        finally:
            feed.stop()
            clock.add("tags", feed.seconds)
        return timeline


def tag_source(gives_tags: bool) -> str:
    """The network whose tags `timeline_of` gives a classifier (`lite_yamnet.network_id`): the model's own YAMNet
    call when it gives tags (the detector's: the bundled lite model), else the tag pass's batched network."""
    from asmr_audioset.lite_yamnet import TAG_NET_TFLITE, YAMNET_TFLITE, network_id

    return network_id(YAMNET_TFLITE if gives_tags else TAG_NET_TFLITE)


def file_result(path, timeline: Timeline, tags: int = TAGS.top) -> FileResult:
    """The file's label from the mean probabilities of its sounding windows (the abstain label when their
    top is under the threshold, `silent` when no window sounds), the majority of the window verdicts, and
    the `tags` best AudioSet classes of the file and of each window when the timeline has a tag track."""
    probs = np.asarray(timeline.probs, np.float32)
    sounding = timeline.sounding
    mean = probs[sounding].mean(axis=0) if sounding.any() else probs.mean(axis=0)
    classes = timeline.classes
    if not sounding.any():
        label, confidence = SILENT, 0.0
    else:
        label = classes[int(mean.argmax())] if mean.max() >= timeline.abstain else timeline.abstain_label
        confidence = float(mean.max())
    windows = timeline.windows()
    counts = Counter(w.label for w in windows)
    top = max(counts.values())
    share = dict(zip(classes, mean, strict=True))
    # A tie between window labels goes to the one with the higher mean probability (a class before "none of these").
    majority = max((lab for lab, c in counts.items() if c == top), key=lambda lab: share.get(lab, -1.0))
    track = timeline.tags if tags > 0 else None
    if track is not None:
        for w in windows:
            w.tags = track.tags(w.start, w.end, tags)
    quality = timeline.quality
    return FileResult(str(path), label, {c: float(v) for c, v in share.items()}, majority, windows,
                      quality and quality.truncated_note, quality.warnings if quality else [],
                      track.tags(0.0, timeline.samples / timeline.sample_rate, tags) if track is not None else [],
                      confidence)


def classify_file(clf: Classifier, path, overlap: float = PREDICT.overlap, clock: StageClock | None = None,
                  tags: int = TAGS.top) -> FileResult:
    """`tags` AudioSet classes per window and for the file (0: none, and no YAMNet pass beside a trained model)."""
    return file_result(path, timeline_of(clf, path, overlap, clock, tags > 0), tags)


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
    _, confidence = timeline.verdicts()
    kept = np.flatnonzero(confidence >= threshold)  # the windows `windows(threshold)` keeps
    starts, _ = window_bounds(len(confidence), timeline.window_samples, timeline.hop_samples, timeline.sample_rate,
                              total=timeline.samples)
    # a kept window lies in the segment whose [start, end) holds its start; kept windows are in time order, so
    # each run of segments owns one run of them
    owner = np.searchsorted([s.start for s in segments], starts[kept], side="right") - 1
    vectors = np.empty((len(segments), timeline.embeddings.shape[1]), np.float16)
    edges = np.searchsorted(owner, np.arange(0, len(segments) + SEGMENT_CHUNK, SEGMENT_CHUNK))
    for first, lo, hi in zip(range(0, len(segments), SEGMENT_CHUNK), edges[:-1], edges[1:], strict=True):
        # float64 sums a chunk of segments at a time: memory is the float16 vectors, not a float64 copy of them all
        sums = np.zeros((min(SEGMENT_CHUNK, len(segments) - first), vectors.shape[1]), np.float64)
        np.add.at(sums, owner[lo:hi] - first, timeline.embeddings[kept[lo:hi]].astype(np.float64))
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        vectors[first : first + len(sums)] = sums / np.where(norms > 0, norms, 1.0)
    return segments, vectors


def format_result(result: FileResult) -> str:
    probs = ", ".join(f"{c} {p:.3f}" for c, p in sorted(result.probabilities.items(), key=lambda kv: -kv[1]))
    lines = [f"{result.path}: {result.label} ({result.confidence:.3f})", f"  probabilities: {probs}"]
    if result.tags:
        lines.append(f"  AudioSet: {format_tags(result.tags)}")
    if len(result.windows) > 1:
        lines.append(f"  majority over {len(result.windows)} windows: {result.majority}")
        lines += [f"  {w.start:8.2f} {w.end:8.2f}  {w.label:<24} {w.confidence:.3f}" + (f"  {format_tags(w.tags)}"
                  if w.tags else "") for w in result.windows]
    return "\n".join(lines)


def check_overlap(overlap: float) -> float:
    if not 0.0 <= overlap < 1.0:
        raise UsageError(f"--overlap {overlap:g}: must be in [0, 1)")
    return overlap


def add_arguments(parser) -> None:
    parser.add_argument("--model", help="run folder, .keras file or exported .tflite (default: the ASMR / speech "
                        "detector on YAMNet's AudioSet head, no training needed)")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--overlap", type=fraction, default=PREDICT.overlap,
                        help=f"window overlap in [0, 1) (default {PREDICT.overlap:g})")
    parser.add_argument("--tags", type=int_at_least(1), default=TAGS.top,
                        help=f"YAMNet's top AudioSet classes shown per window and file (default {TAGS.top})")
    parser.add_argument("--no-tags", dest="tags", action="store_const", const=0,
                        help="no AudioSet tags (and no YAMNet pass beside a trained model)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file instead of text")
    parser.add_argument("--timing", action="store_true", help="print the seconds spent per stage on stderr")


def main(args) -> int:
    clock = StageClock()
    with clock.stage("load"):
        clf = load_classifier(args.model)
    if clf.generated:
        print(generated_corpus_warning(args.model), file=sys.stderr)
    failed = 0
    for path in args.files:
        try:
            result = classify_file(clf, path, args.overlap, clock, args.tags)
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
