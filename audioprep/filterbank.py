"""The periodic Hann window and the Slaney and HTK mel filterbanks in numpy: the constants librosa gives the
feature front ends and TensorFlow gives YAMNet's, without importing either at run time.

librosa's filterbank call loads numba and compiles its kernels: about 160 MB of resident memory and a
second of start-up in every command that featurises a window (measured with /usr/bin/time on this
machine: `import librosa` alone 14 MB, after `librosa.filters.mel(...)` 170 MB, numpy alone 30 MB). The
values agree with `librosa.filters.mel` and `librosa.filters.get_window` (tests/audioprep/test_filterbank.py).

The Slaney mel scale is linear below 1 kHz (200/3 Hz a mel) and logarithmic above it (27 mels an octave of
6.4x); each filter is a triangle from one band edge to the next-but-one, scaled to unit area (2 / width).
The HTK scale (`htk_mel`, YAMNet's) is 1127 ln(1 + f / 700) throughout, its triangles of peak 1 and the
DC bin left out, as `tf.signal.linear_to_mel_weight_matrix` builds them (tests/audioprep/test_filterbank.py).
"""

from __future__ import annotations

import functools

import numpy as np

LINEAR_HZ_PER_MEL = 200.0 / 3.0
BREAK_HZ = 1000.0
BREAK_MEL = BREAK_HZ / LINEAR_HZ_PER_MEL
LOG_STEP = np.log(6.4) / 27.0  # natural-log Hz per mel above the break


@functools.lru_cache(maxsize=16)
def hann(n: int, periodic: bool = True) -> np.ndarray:
    """The periodic ("fftbins") Hann window of n samples, or the symmetric one, float32 (read-only: it is
    cached, as every batch of log-mels multiplies by it)."""
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / (n if periodic else n - 1))).astype(np.float32)
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


def htk_hz_to_mel(hz) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, np.float64) / 700.0)


@functools.lru_cache(maxsize=16)
def htk_mel(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) float32 triangular filters on the HTK mel scale, peak 1, no weight on the DC bin
    (read-only: it is cached); the layout of `tf.signal.linear_to_mel_weight_matrix`, which YAMNet uses."""
    bins = htk_hz_to_mel(np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)[1:])[:, None]
    edges = np.linspace(htk_hz_to_mel(fmin), htk_hz_to_mel(fmax), n_mels + 2)
    lo, centre, hi = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0.0, np.minimum((bins - lo) / (centre - lo), (hi - bins) / (hi - centre)))
    weights = np.pad(weights, ((1, 0), (0, 0))).astype(np.float32)
    weights.flags.writeable = False
    return weights
