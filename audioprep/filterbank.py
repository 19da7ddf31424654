"""The periodic Hann window and the Slaney mel filterbank in numpy: the constants librosa gives the feature
front ends, without importing librosa at run time.

librosa's filterbank call loads numba and compiles its kernels: about 160 MB of resident memory and a
second of start-up in every command that featurises a window (measured with /usr/bin/time on this
machine: `import librosa` alone 14 MB, after `librosa.filters.mel(...)` 170 MB, numpy alone 30 MB). The
values agree with `librosa.filters.mel` and `librosa.filters.get_window` (tests/audioprep/test_filterbank.py).

The Slaney mel scale is linear below 1 kHz (200/3 Hz a mel) and logarithmic above it (27 mels an octave of
6.4x); each filter is a triangle from one band edge to the next-but-one, scaled to unit area (2 / width).
"""

from __future__ import annotations

import functools

import numpy as np

LINEAR_HZ_PER_MEL = 200.0 / 3.0
BREAK_HZ = 1000.0
BREAK_MEL = BREAK_HZ / LINEAR_HZ_PER_MEL
LOG_STEP = np.log(6.4) / 27.0  # natural-log Hz per mel above the break


@functools.lru_cache(maxsize=16)
def hann(n: int) -> np.ndarray:
    """The periodic ("fftbins") Hann window of n samples, float32 (read-only: it is cached, as every batch of
    log-mels multiplies by it)."""
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)
    window.flags.writeable = False
    return window


def hz_to_mel(hz) -> np.ndarray:
    hz = np.asarray(hz, np.float64)
    above = BREAK_MEL + np.log(np.maximum(hz, BREAK_HZ) / BREAK_HZ) / LOG_STEP
    return np.where(hz >= BREAK_HZ, above, hz / LINEAR_HZ_PER_MEL)


def mel_to_hz(mel) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    above = BREAK_HZ * np.exp(LOG_STEP * (np.maximum(mel, BREAK_MEL) - BREAK_MEL))
    return np.where(mel >= BREAK_MEL, above, mel * LINEAR_HZ_PER_MEL)


@functools.lru_cache(maxsize=16)
def slaney_mel(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32 triangular filters on the Slaney mel scale, unit area each (read-only:
    it is cached)."""
    fmax = sample_rate / 2.0 if fmax is None else fmax
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    lo, centre, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lo) / (centre - lo)
    falling = (hi - bins) / (hi - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (hi - lo))
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights
