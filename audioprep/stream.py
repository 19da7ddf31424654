"""Long recordings in bounded memory: a file decoded block by block, and model windows cut from the blocks.

`AudioStream` reads with libsndfile's block reads, down-mixes each block and resamples it with
`soxr.ResampleStream`, which keeps the filter state across blocks, so the samples equal
`load_audio`'s whole-file ones. `batched_windows` cuts any stream of mono blocks into exactly the
windows `audioprep.segment.sliding_windows` (or `fixed_clips`) cuts from the whole signal, a batch at a
time. Memory is one block plus one batch, whatever the file's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
from audioprep.segment import repeat_pad, window_count

BLOCK_FRAMES = 1 << 16  # input frames per read: 1.5 s at 44.1 kHz, 0.5 MB as stereo float32


@dataclass(frozen=True)
class DecodeStatus:
    """How far a file decoded: `seconds` into the file where decoding stopped, of the `header_seconds`
    its header promises; `truncated` when the data ran out before that."""

    path: str
    seconds: float
    header_seconds: float
    truncated: bool

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
        self._position, self._truncated = self.span.first_frame, False

    @property
    def status(self) -> DecodeStatus:
        rate = self.source_rate
        return DecodeStatus(str(self.path), self._position / rate, self._promised / rate, self._truncated)

    def _resampler(self):
        if self.sample_rate == self.source_rate:
            return None
        channels = 1 if self.mono else self.channels
        return soxr.ResampleStream(self.source_rate, self.sample_rate, channels, dtype="float32")

    def __iter__(self) -> Iterator[np.ndarray]:
        self.samples, self._truncated = 0, False
        skip, left, stop = self.span.skip, self.span.count, self.span.stop_frame
        resampler = self._resampler()
        with open_audio(self.path) as fh:
            self._position = start = seek_frame(fh, self.path, self.span.first_frame, self.block_frames)
            while True:
                want = self.block_frames if stop is None else min(self.block_frames, stop - self._position)
                frames = read_frames(fh, self.path, want, self._position)
                self._position += len(frames)
                ended = len(frames) < want
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


def _whole_windows(total: int, length: int, hop: int) -> int:
    """Windows lying wholly inside `total` samples (fixed_clips' count)."""
    return 1 + (total - length) // hop if total >= length else 0


def batched_windows(blocks: Iterable[np.ndarray], length: int, hop: int, batch: int = 64,
                    pad_last: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index of the first window, (k, length) windows), k = `batch` except in the last batch.

    Window i covers samples [i * hop, i * hop + length) of the concatenated mono blocks. pad_last=True
    gives `sliding_windows(signal, length, overlap)` for hop = window_hop(length, overlap): the last
    window repeat-padded from the signal's start, a signal shorter than `length` one repeated window.
    pad_last=False gives `fixed_clips(signal, length, hop)`: the remainder dropped.
    """
    if min(length, hop, batch) < 1:
        raise ValueError(f"length, hop and batch must be >= 1, got {length}, {hop}, {batch}")
    if pad_last and hop > length:
        raise ValueError(f"repeat-padding needs hop <= length, got hop {hop} > length {length}")
    head = np.zeros(0, np.float32)  # the signal's first `length` samples: what the last window is padded with
    buffer, offset, total, index = head, 0, 0, 0  # buffer holds samples [offset, total)
    for block in blocks:
        block = np.asarray(block)
        if block.ndim != 1:
            raise ValueError(f"windows are cut from mono blocks, got shape {block.shape}")
        if len(head) < length:
            head = np.concatenate([head, block[: length - len(head)]])
        buffer, total = np.concatenate([buffer, block]), total + len(block)
        while _whole_windows(total, length, hop) - index >= batch:
            yield index, _cut(buffer, (index * hop) - offset, length, hop, batch)
            index += batch
        drop = min(index * hop - offset, len(buffer))
        buffer, offset = buffer[drop:], offset + drop
    count = window_count(total, length, hop) if pad_last else _whole_windows(total, length, hop)
    if pad_last:
        needed = (count - 1) * hop + length
        buffer = np.concatenate([buffer, repeat_pad(head, needed - total)]) if needed > total else buffer
    for first in range(index, count, batch):
        yield first, _cut(buffer, first * hop - offset, length, hop, min(batch, count - first))


def _cut(buffer: np.ndarray, start: int, length: int, hop: int, k: int) -> np.ndarray:
    piece = buffer[start : start + (k - 1) * hop + length]
    return np.lib.stride_tricks.sliding_window_view(piece, length)[::hop][:k].copy()
