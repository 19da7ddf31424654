"""YAMNet's AudioSet head on any recording: per-window scores, embeddings and top AudioSet tags.

The real YAMNet ships in asmr_audioset/assets (TF-Hub's lite model, Apache-2.0): a float32 window of 15,600
samples at 16 kHz (0.975 s) in, 521 AudioSet scores out. Its 1024-d embedding is the tensor before the
dense head, which the interpreter keeps when built with `experimental_preserve_all_tensors`. It runs on
LiteRT alone (XNNPACK, its default), with no TensorFlow, so a one-file command starts quickly; an
interpreter is not thread-safe, so each thread gets its own (`yamnet()`).

A `TagTrack` keeps each YAMNet window's `keep` best classes over a recording (4 bytes a class), so
the tags of any span, a window of another model or a merged segment, are the overlap-weighted mean of
its windows' kept scores: what `predict`, `lean tag` and the catalogue show beside their labels.
`track_of` streams a file of any length block by block, resampled to 16 kHz; `track_of_blocks` takes the
16 kHz blocks from a decode another model's pipeline shares. Both score with the same weights batched
(`tag_net()`: asmr_audioset.tag_net, YAMNet's float front end), not window by window as `yamnet()` does.
"""

from __future__ import annotations

import csv
import functools
import itertools
import threading
import warnings
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asmr_audioset.params import TAGS
from audioprep import blas, console
from audioprep.errors import BadFileError
from audioprep.io import file_sha256
from audioprep.segment import batched_windows, window_hop
from audioprep.stream import AudioStream, prefetch

if TYPE_CHECKING:
    from asmr_audioset.tag_net import TagNet

ASSETS = Path(__file__).resolve().parent / "assets"  # assets/README.md says what the files are
YAMNET_TFLITE = ASSETS / "yamnet.tflite"
TAG_NET_TFLITE = ASSETS / "yamnet_tags.tflite"  # the tag pass's batched network (asmr_audioset.tag_net)
CLASS_MAP = ASSETS / "yamnet_class_map.csv"
SAMPLE_RATE = 16000
WINDOW = 15600  # 0.975 s: YAMNet's input
EMBEDDING = "yamnet_frames/global_average_pooling2d/Mean"
BATCH = 32  # windows decoded ahead of the interpreter at a time


@functools.cache
def class_names() -> tuple[str, ...]:
    """The 521 AudioSet display names, in score order."""
    with CLASS_MAP.open(newline="", encoding="utf-8") as fh:
        return tuple(row["display_name"] for row in csv.DictReader(fh))


def class_index(name: str) -> int:
    return class_names().index(name)


@functools.cache
def network_id(path) -> str:
    """Which network a tag track came from, as the catalogue records it: file name and content hash (a changed
    network re-tags a catalogued folder)."""
    return f"{Path(path).name}:{file_sha256(path)[:12]}"


def interpreter(path: Path, missing: str, **options):
    """A LiteRT interpreter of `path` with its tensors allocated (XNNPACK's delegate is made then); BadFileError
    with `missing` if there is no such file. LiteRT's C++ side prints "INFO: Created TensorFlow Lite XNNPACK
    delegate" on descriptor 2: caught as TensorFlow's start-up lines are (--verbose shows it); the note about
    memory `experimental_preserve_all_tensors` brings is one window's tensors, a few MB."""
    from ai_edge_litert.interpreter import Interpreter

    if not path.is_file():
        raise BadFileError(path, missing)
    with console.native_lines_caught(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
        made = Interpreter(model_path=str(path), **options)
        made.allocate_tensors()
    return made


@dataclass(frozen=True, order=True, slots=True)
class Tag:  # slots: a long recording's windows hold a few each
    label: str
    score: float


class Yamnet:
    """The bundled lite YAMNet: (k, 15600) float32 windows at 16 kHz -> (k, 521) scores and (k, 1024) embeddings."""

    def __init__(self, path=YAMNET_TFLITE):
        path = Path(path)
        self.interpreter = interpreter(path, "no such TFLite model (YAMNet ships in asmr_audioset/assets)",
                                       experimental_preserve_all_tensors=True)
        self.source = network_id(path)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.scores = self.interpreter.get_output_details()[0]["index"]
        self.embedding = next(t["index"] for t in self.interpreter.get_tensor_details() if t["name"] == EMBEDDING)

    def __call__(self, windows: np.ndarray, embeddings: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        windows = np.asarray(windows, np.float32)
        scores = np.empty((len(windows), len(class_names())), np.float32)
        vectors = np.empty((len(windows), 1024), np.float32) if embeddings else None
        for i, window in enumerate(windows):
            self.interpreter.set_tensor(self.input, window[None])
            self.interpreter.invoke()
            scores[i] = self.interpreter.get_tensor(self.scores)[0]
            if vectors is not None:
                vectors[i] = self.interpreter.get_tensor(self.embedding)[0]
        return scores, vectors


_PER_THREAD = threading.local()


def yamnet() -> Yamnet:
    """This thread's interpreter, made on first use (an interpreter must not be shared between threads)."""
    if not hasattr(_PER_THREAD, "net"):
        _PER_THREAD.net = Yamnet()
    return _PER_THREAD.net


def tag_net() -> TagNet:
    """This thread's batched tag-pass YAMNet (`asmr_audioset.tag_net`), made on first use (imported then: its
    log-mel's scipy.fft takes 0.24-0.31 s to import, which a command without tags does not pay)."""
    if not hasattr(_PER_THREAD, "tags"):
        from asmr_audioset.tag_net import TagNet

        _PER_THREAD.tags = TagNet()
    return _PER_THREAD.tags


def top_classes(scores: np.ndarray, keep: int = TAGS.keep) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `keep` best classes, best first: (index uint16, score float16)."""
    index = np.argsort(-scores, axis=1, kind="stable")[:, :keep]
    return index.astype(np.uint16), np.take_along_axis(scores, index, axis=1).astype(np.float16)


@dataclass
class TagTrack:
    """The best AudioSet classes of each YAMNet window over a recording; window i covers samples
    [i * hop, i * hop + 15600) at 16 kHz."""

    index: np.ndarray  # (windows, keep) uint16, best first
    score: np.ndarray  # (windows, keep) float16
    hop_samples: int
    source: str | None = None  # the network's `network_id`; None: not known (a catalogue before format 5)

    @classmethod
    def of(cls, parts: Iterable[tuple[np.ndarray, np.ndarray]], hop_samples: int, keep: int = TAGS.keep,
           source: str | None = None) -> TagTrack:
        parts = list(parts)
        if not parts:
            return cls(np.zeros((0, keep), np.uint16), np.zeros((0, keep), np.float16), hop_samples, source)
        return cls(np.concatenate([i for i, _ in parts]), np.concatenate([s for _, s in parts]), hop_samples, source)

    def tags(self, start: float, end: float, top: int = TAGS.top) -> list[Tag]:
        """The `top` classes of the span [start, end) seconds: its windows' kept scores averaged, each window
        weighted by how much of it lies in the span (a class a window did not keep counts 0 there)."""
        if top <= 0 or len(self.index) == 0:
            return []
        starts = np.arange(len(self.index)) * (self.hop_samples / SAMPLE_RATE)
        ends = starts + WINDOW / SAMPLE_RATE
        first = int(np.searchsorted(ends, start, side="right"))
        last = max(int(np.searchsorted(starts, end, side="left")), first + 1)  # a point or a span past the end: one
        first = min(first, len(self.index) - 1)
        last = min(last, len(self.index))
        weight = np.minimum(ends[first:last], end) - np.maximum(starts[first:last], start)
        weight = np.maximum(weight, 0.0) if weight.max() > 0 else np.ones_like(weight)
        mean = np.zeros(len(class_names()), np.float64)
        np.add.at(mean, self.index[first:last], self.score[first:last].astype(np.float64) * weight[:, None])
        mean /= weight.sum()
        best = np.argsort(-mean, kind="stable")[:top]
        names = class_names()
        return [Tag(names[i], round(float(mean[i]), 4)) for i in best if mean[i] > 0]


def track_of_blocks(blocks: Iterable[np.ndarray], overlap: float = TAGS.overlap, keep: int = TAGS.keep) -> TagTrack:
    """The tag track of a recording given as mono 16 kHz blocks, a batch of windows at a time in this thread's
    interpreter: what `track_of` runs on a file, and what a model's pipeline feeds from a decode it shares."""
    hop = window_hop(WINDOW, overlap)
    blocks = iter(blocks)
    first = next(blocks, None)
    net = tag_net()
    if first is None:  # a few samples at the file's rate can be none at 16 kHz: nothing to tag
        return TagTrack.of([], hop, keep, net.source)
    cut = batched_windows(itertools.chain([first], blocks), WINDOW, hop, BATCH)
    return TagTrack.of((top_classes(net(windows), keep) for _, windows in cut), hop, keep, net.source)


def track_of(path, overlap: float = TAGS.overlap, keep: int = TAGS.keep) -> TagTrack:
    """A file's tag track, decoded block by block at 16 kHz in a thread while the interpreter scores the previous
    batch; memory is a batch of windows and `keep` classes a window. AudioError naming the file if it cannot be
    decoded."""
    # closing: the decode thread stops on an error; one BLAS thread: the decode's and the tag pass's share the cores
    with closing(prefetch(AudioStream(path, sr=SAMPLE_RATE))) as blocks, blas.one_thread():
        return track_of_blocks(blocks, overlap, keep)


def format_tags(tags: list[Tag]) -> str:
    """`Speech 0.91; Inside, small room 0.02`: AudioSet names hold commas, so tags are joined by semicolons."""
    return "; ".join(f"{t.label} {t.score:.2f}" for t in tags)
