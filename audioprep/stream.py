"""Long recordings in bounded memory: a file decoded block by block, and model windows cut from the blocks.

`AudioStream` reads with libsndfile's block reads, down-mixes each block and resamples it with
`soxr.ResampleStream`, which keeps the filter state across blocks, so the samples equal
`load_audio`'s whole-file ones; `audioprep.segment.batched_windows` cuts the blocks into exactly the
windows `sliding_windows` (or `fixed_clips`) cuts from the whole signal, a batch at a time, and
`prefetch` runs such a pipeline a step ahead in a thread. Memory is a few blocks and batches, whatever
the file's length.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import soxr

from audioprep.errors import AudioError
from audioprep.io import (
    MP3_FRAME,
    check_offset,
    clock,
    downmix,
    header_frames,
    open_audio,
    read_frames,
    seek_frame,
    span,
)

BLOCK_FRAMES = 1 << 16  # input frames per read: 1.5 s at 44.1 kHz, 0.5 MB as stereo float32


@dataclass(frozen=True)
class DecodeStatus:
    """How far a file decoded: `seconds` into the file where decoding stopped, of the `header_seconds`
    its header promises; `truncated` when the data ran out before that."""

    path: str
    seconds: float
    header_seconds: float
    truncated: bool
    decoded_seconds: float = 0.0  # audio yielded, at the stream's rate (a span's length, not its end)
    peak: float = 0.0  # largest sample magnitude decoded (audioprep.quality: digital silence)

    @property
    def duration(self) -> float:
        """Seconds of audio the file holds: its header's figure, or where decoding stopped if cut short."""
        return self.seconds if self.truncated else self.header_seconds

    def note(self) -> str:
        """The one line a CLI prints for a truncated file."""
        return f"{self.path}: truncated: audio stops at {clock(self.seconds)} of {clock(self.header_seconds)}"


class AudioStream:
    """A file (or the span offset..offset+duration seconds of it) as float32 blocks in [-1, 1] at `sr`:
    (n,) when mono, else (channels, n). Iterate it; `samples` counts what was yielded and `status` says
    how far decoding got. A decoder error or a NaN/inf sample raises AudioError naming the file.
    """

    def __init__(self, path, sr: int | None = None, mono: bool = True, offset: float = 0.0,
                 duration: float | None = None, block_frames: int = BLOCK_FRAMES):
        self.path = Path(path)
        with open_audio(self.path) as fh:
            check_offset(fh, self.path, offset)
            self.source_rate, self.channels = int(fh.samplerate), int(fh.channels)
            self._promised = header_frames(fh)
            # an mp3 decoder's gapless trimming may leave up to a frame less than the header promises
            self._slack = MP3_FRAME if fh.format == "MP3" else 0
        self.sample_rate = sr or self.source_rate
        self.mono, self.block_frames = mono, block_frames
        self.span = span(offset, duration, self.source_rate, self.sample_rate)
        self.samples = 0
        self._position, self._truncated, self._peak = self.span.first_frame, False, 0.0

    @property
    def status(self) -> DecodeStatus:
        rate = self.source_rate
        return DecodeStatus(str(self.path), self._position / rate, self._promised / rate, self._truncated,
                            self.samples / self.sample_rate, self._peak)

    def _resampler(self):
        if self.sample_rate == self.source_rate:
            return None
        channels = 1 if self.mono else self.channels
        return soxr.ResampleStream(self.source_rate, self.sample_rate, channels, dtype="float32")

    def __iter__(self) -> Iterator[np.ndarray]:
        self.samples, self._truncated, self._peak = 0, False, 0.0
        skip, left, stop = self.span.skip, self.span.count, self.span.stop_frame
        resampler = self._resampler()
        with open_audio(self.path) as fh:
            self._position = start = seek_frame(fh, self.path, self.span.first_frame, self.block_frames)
            while True:
                want = self.block_frames if stop is None else min(self.block_frames, stop - self._position)
                frames = read_frames(fh, self.path, want, self._position)
                self._position += len(frames)
                ended = len(frames) < want
                if len(frames):
                    self._peak = max(self._peak, float(np.abs(frames).max()))
                block = downmix(frames) if self.mono else frames
                if resampler is not None:
                    block = resampler.resample_chunk(block, last=ended or self._position == stop)
                cut = min(skip, len(block))
                block, skip = block[cut:], skip - cut
                if left is not None:
                    block, left = block[:left], left - min(left, len(block))
                if len(block):
                    self.samples += len(block)
                    yield np.clip(block if self.mono else block.T, -1.0, 1.0)
                if ended or left == 0 or self._position == stop:
                    break
        if self._position == start:
            raise AudioError(self.path, "holds no samples (zero-length audio)")
        self._truncated = ended and self._position < self._promised - self._slack


def scan_audio(path, block_frames: int = BLOCK_FRAMES) -> DecodeStatus:
    """Decode a whole file block by block at its own rate, checking every sample is finite, without
    holding it: what `inspect` needs to validate a file. AudioError naming the file if it is unusable."""
    stream = AudioStream(path, mono=False, block_frames=block_frames)
    for _ in stream:
        pass
    return stream.status


T = TypeVar("T")


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield `items`, computed in a thread up to `depth` ahead of the consumer: decoding (or featurising)
    the next batch while the caller works on this one. The thread's exception is raised here; leaving
    the loop early stops the thread after the item it is computing."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop, end = threading.Event(), object()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, which raises it
            put((end, err))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, err = ahead.get()
            if err is not None:
                raise err
            if item is end:
                return
            yield item
    finally:
        stop.set()
        thread.join()
