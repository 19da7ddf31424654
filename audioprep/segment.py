"""Cutting signals into model inputs: fixed clips, overlapping windows (whole or streamed), repeat-padding.

`batched_windows` is the one window cutter: it takes any stream of mono blocks (a decoded file, block
by block, or one in-memory array) and yields the windows a batch at a time; `stream_windows` and
`sliding_windows` are it applied to an array.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


def clip_count(total: int, length: int, hop: int) -> int:
    """Windows of `length` spaced `hop` apart lying wholly inside `total` samples."""
    return 1 + (total - length) // hop if total >= length else 0


def fixed_clips(audio: np.ndarray, length: int, hop: int | None = None) -> np.ndarray:
    """Non-overlapping (or `hop`-spaced) clips of `length` samples; the remainder is dropped (Lin: 10 s)."""
    hop = hop or length
    count = clip_count(len(audio), length, hop)
    if count == 0:
        return np.zeros((0, length), dtype=audio.dtype)
    return np.lib.stride_tricks.sliding_window_view(audio, length)[::hop][:count].copy()


def repeat_pad(audio: np.ndarray, length: int) -> np.ndarray:
    """Tile a short clip until it is `length` long (LEAN's rule for clips under 1 s); truncate longer ones."""
    if len(audio) == 0:
        raise ValueError("cannot repeat-pad an empty signal")
    reps = -(-length // len(audio))
    return np.tile(audio, reps)[:length]


def window_hop(length: int, overlap: float) -> int:
    """Samples between the starts of windows of `length` overlapping by the fraction `overlap` in [0, 1)."""
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    return max(1, int(round(length * (1.0 - overlap))))


def window_count(total: int, length: int, hop: int) -> int:
    """Windows needed to cover `total` samples (one for a signal no longer than a window)."""
    return 1 if total <= length else 1 + int(np.ceil((total - length) / hop))


def batched_windows(blocks: Iterable[np.ndarray], length: int, hop: int, batch: int = 64,
                    pad_last: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index of the first window, (k, length) windows), k = `batch` except in the last batch.

    Window i covers samples [i * hop, i * hop + length) of the concatenated mono blocks. pad_last=True
    covers the whole signal: samples past its end repeat it from its start, so the last window is
    repeat-padded and a signal shorter than `length` gives one repeated window (LEAN evaluation).
    pad_last=False gives `fixed_clips`: the remainder dropped. Blocks are joined once per batch, so
    memory is one batch's span of samples whatever the signal's length.
    """
    if min(length, hop, batch) < 1:
        raise ValueError(f"length, hop and batch must be >= 1, got {length}, {hop}, {batch}")
    if pad_last and hop > length:
        raise ValueError(f"repeat-padding needs hop <= length, got hop {hop} > length {length}")
    head: list[np.ndarray] = []  # the signal's first `length` samples: what the last window is padded with
    held, pending = 0, []
    offset, total, index = 0, 0, 0  # pending blocks hold samples [offset, total)
    for block in blocks:
        block = np.asarray(block)
        if block.ndim != 1:
            raise ValueError(f"windows are cut from mono blocks, got shape {block.shape}")
        if held < length:
            head.append(block[: length - held])
            held += len(head[-1])
        pending.append(block)
        total += len(block)
        if clip_count(total, length, hop) - index < batch:
            continue
        buffer = _joined(pending)
        while clip_count(total, length, hop) - index >= batch:
            yield index, _cut(buffer, index * hop - offset, length, hop, batch)
            index += batch
        drop = min(index * hop - offset, len(buffer))
        pending, offset = [buffer[drop:]], offset + drop
    count = window_count(total, length, hop) if pad_last else clip_count(total, length, hop)
    if index >= count:
        return
    buffer = _joined(pending)
    missing = (count - 1) * hop + length - total
    if pad_last and missing > 0:
        buffer = np.concatenate([buffer, repeat_pad(_joined(head), missing)])
    for first in range(index, count, batch):
        yield first, _cut(buffer, first * hop - offset, length, hop, min(batch, count - first))


def _joined(blocks: list[np.ndarray]) -> np.ndarray:
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def _cut(buffer: np.ndarray, start: int, length: int, hop: int, k: int) -> np.ndarray:
    piece = buffer[start : start + (k - 1) * hop + length]
    return np.lib.stride_tricks.sliding_window_view(piece, length)[::hop][:k].copy()


def stream_windows(audio: np.ndarray, length: int, overlap: float = 0.5, batch: int = 64) -> Iterator[tuple[int, np.ndarray]]:
    """`batched_windows` of one in-memory signal with windows overlapping by the fraction `overlap`."""
    return batched_windows((audio,), length, window_hop(length, overlap), batch)


def sliding_windows(audio: np.ndarray, length: int, overlap: float = 0.5) -> np.ndarray:
    """Every window of `stream_windows` at once, as one (k, length) array."""
    count = window_count(len(audio), length, window_hop(length, overlap))
    return next(stream_windows(audio, length, overlap, batch=count))[1]


def window_bounds(count: int, length: int, hop: int, sr: int, total: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times in seconds of `count` windows; ends are capped at the signal's end if given."""
    starts = np.arange(count) * hop
    ends = starts + length
    if total is not None:
        ends = np.minimum(ends, total)
    return starts / sr, ends / sr
