"""Cutting signals into model inputs: fixed clips, overlapping windows, repeat-padding."""

from __future__ import annotations

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


def sliding_windows(audio: np.ndarray, length: int, overlap: float = 0.5) -> np.ndarray:
    """Windows covering the whole signal with the given overlap; the last one is repeat-padded.

    A signal shorter than one window gives a single repeat-padded window (LEAN evaluation: 1 s, 50 %).
    """
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    hop = max(1, int(round(length * (1.0 - overlap))))
    if len(audio) <= length:
        return repeat_pad(audio, length)[None]
    count = 1 + int(np.ceil((len(audio) - length) / hop))
    needed = (count - 1) * hop + length
    padded = np.concatenate([audio, repeat_pad(audio, needed - len(audio))]) if needed > len(audio) else audio
    return np.lib.stride_tricks.sliding_window_view(padded, length)[::hop][:count].copy()


def window_hop(length: int, overlap: float) -> int:
    return max(1, int(round(length * (1.0 - overlap))))


def window_bounds(count: int, length: int, hop: int, sr: int, total: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times in seconds of `count` windows; ends are capped at the signal's end if given."""
    starts = np.arange(count) * hop
    ends = starts + length
    if total is not None:
        ends = np.minimum(ends, total)
    return starts / sr, ends / sr
