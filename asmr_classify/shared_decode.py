"""One decode for a classifier and YAMNet's tags: a file decoded once, mono at its own rate, each block
resampled as it is read to the classifier's rate and to YAMNet's 16 kHz.

The classifier's pipeline iterates a `SharedDecode` as it would an `AudioStream` at its rate (the same
samples: each rate has its own `soxr.ResampleStream` over the same blocks); the 16 kHz blocks go through
a bounded queue to a `TagFeed`, whose thread cuts them into YAMNet's windows and scores them
(`lite_yamnet.track_of_blocks`) while the classifier works on its own. Memory is a few blocks per rate
whatever the file's length; an error on either side stops both.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Iterator

import numpy as np
import soxr

from asmr_audioset.lite_yamnet import SAMPLE_RATE, TagTrack, track_of_blocks
from asmr_audioset.params import TAGS
from audioprep.stream import AudioStream, DecodeStatus

_END = object()
_WAIT = 0.05  # seconds between looks at whether the other side stopped
# 16 kHz blocks the decode may run ahead of the tag thread: 32 (48 s of audio, 3 MB) lets the model's pipeline
# cut a whole batch (33 s of a DeepASMR window's audio) while YAMNet catches up. With 4, both sides waited on each
# other: a 20-minute mp3 catalogued with an exported paper classifier took 5.55 s after start-up, 4.0 s with 32.
DEPTH = 32


class TagFeed:
    """YAMNet's tag track of 16 kHz blocks handed over by another thread (`put`, then `end`), computed in a
    thread of its own; `result()` waits for it. `seconds` is the time the thread worked, not waiting."""

    def __init__(self, overlap: float = TAGS.overlap, keep: int = TAGS.keep, depth: int = DEPTH):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._track: TagTrack | None = None
        self._error: BaseException | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, args=(overlap, keep), name="tags", daemon=True)
        self._thread.start()

    def _blocks(self) -> Iterator[np.ndarray]:
        while not self._stop.is_set():
            waited = time.perf_counter()
            try:
                item = self._queue.get(timeout=_WAIT)
            except queue.Empty:
                continue
            finally:
                self.seconds -= time.perf_counter() - waited
            if item is _END:
                return
            yield item
        raise _Stopped

    def _run(self, overlap: float, keep: int) -> None:
        start = time.perf_counter()
        try:
            self._track = track_of_blocks(self._blocks(), overlap, keep)
        except _Stopped:
            pass
        except BaseException as err:  # noqa: BLE001 - handed to the feeding thread and to result()
            self._error = err
            self._stop.set()
        finally:
            self.seconds += time.perf_counter() - start

    def _hand(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_WAIT)
                return
            except queue.Full:
                continue
        if self._error is not None:
            raise self._error

    def put(self, block: np.ndarray) -> None:
        """Hand one 16 kHz block over (waits while the thread is behind); the thread's error, if it failed."""
        self._hand(block)

    def end(self) -> None:
        """No more blocks: the track is computed from those handed over."""
        self._hand(_END)

    def stop(self) -> None:
        """Give up (the feeding side failed): the thread stops after its current batch."""
        self._stop.set()
        self._thread.join()

    def result(self) -> TagTrack:
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._track is None:
            raise RuntimeError("the tag track was stopped before its end")
        return self._track


class _Stopped(Exception):
    """The tag thread was told to stop."""


class _Resampler:
    """A mono stream's blocks at `source` Hz to `rate` Hz, the way AudioStream(path, sr=rate) resamples them."""

    def __init__(self, source: int, rate: int):
        self._stream = None if source == rate else soxr.ResampleStream(source, rate, 1, dtype="float32")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return block
        return np.clip(self._stream.resample_chunk(block, last=last), -1.0, 1.0)


class SharedDecode:
    """A file's mono blocks at `sample_rate` for a classifier, and the same blocks at 16 kHz for `tags`, from
    one decode. Iterate it like an AudioStream at `sample_rate`; `samples` and `status` say what it yielded."""

    def __init__(self, path, sample_rate: int, tags: TagFeed):
        self.source = AudioStream(path)  # mono at the file's own rate
        self.sample_rate = sample_rate
        self.tags = tags
        self.samples = 0

    @property
    def status(self) -> DecodeStatus:
        return dataclasses.replace(self.source.status, decoded_seconds=self.samples / self.sample_rate)

    def _to_tags(self, block: np.ndarray) -> None:
        if len(block):  # a resampler may give nothing for a short block; the windows never see an empty one
            self.tags.put(block)

    def __iter__(self) -> Iterator[np.ndarray]:
        rate = self.source.source_rate
        to_model, to_tags = _Resampler(rate, self.sample_rate), _Resampler(rate, SAMPLE_RATE)
        self.samples = 0
        finished = False
        try:
            for block in self.source:
                self._to_tags(to_tags(block))
                out = to_model(block)
                self.samples += len(out)
                if len(out):
                    yield out
            empty = np.zeros(0, np.float32)
            self._to_tags(to_tags(empty, last=True))
            self.tags.end()
            out = to_model(empty, last=True)
            self.samples += len(out)
            finished = True
            if len(out):
                yield out
        finally:
            if not finished:
                self.tags.stop()
