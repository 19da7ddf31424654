"""Cutting signals into model inputs: fixed clips, overlapping windows (whole or streamed), repeat-padding."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def fixed_clips(audio: np.ndarray, length: int, hop: int | None = None) -> np.ndarray:
    """Non-overlapping (or `hop`-spaced) clips of `length` samples; the remainder is dropped (Lin: 10 s)."""
    hop = hop or length
    if len(audio) < length:
        return np.zeros((0, length), dtype=audio.dtype)
    count = 1 + (len(audio) - length) // hop
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


def stream_windows(audio: np.ndarray, length: int, overlap: float = 0.5, batch: int = 64) -> Iterator[tuple[int, np.ndarray]]:
    """(index of the first window, (k <= batch, length) windows), batch after batch, covering the whole signal.

    Samples past the end repeat the signal from its start, so the last window is repeat-padded and a
    signal shorter than one window gives one repeated window (LEAN evaluation: 1 s, 50 %). Only one
    batch is in memory at a time, so an hour-long file costs no more memory than its samples.
    """
    hop = window_hop(length, overlap)
    count = window_count(len(audio), length, hop)
    for first in range(0, count, batch):
        last = min(count, first + batch)
        start, end = first * hop, (last - 1) * hop + length
        piece = audio[start:end]
        if len(piece) < end - start:
            piece = np.concatenate([piece, repeat_pad(audio, end - start - len(piece))])
        yield first, np.lib.stride_tricks.sliding_window_view(piece, length)[::hop][: last - first]


def sliding_windows(audio: np.ndarray, length: int, overlap: float = 0.5) -> np.ndarray:
    """Every window of `stream_windows` at once, as one (k, length) array."""
    return np.concatenate([windows for _, windows in stream_windows(audio, length, overlap)])


def window_bounds(count: int, length: int, hop: int, sr: int, total: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times in seconds of `count` windows; ends are capped at the signal's end if given."""
    starts = np.arange(count) * hop
    ends = starts + length
    if total is not None:
        ends = np.minimum(ends, total)
    return starts / sr, ends / sr
