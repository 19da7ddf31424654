"""YAMNet's float log-mel front end in numpy, for the batched tag pass (`asmr_audioset.tag_net`) that runs
without TensorFlow: the same values as `lean.front_end.log_mel` (TensorFlow's STFT and mel matrix) within
float32 rounding, from the same `FrontEndParams` (tests/lean/test_lean_front_end.py).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from audioprep.filterbank import hann, htk_mel
from audioprep.params import FrontEndParams


def log_mel(waveforms: np.ndarray, params: FrontEndParams) -> np.ndarray:
    """(k, n) float32 waveforms at params.sample_rate -> (k, params.frames(n), mel_bands) float32 log mel
    magnitudes: periodic Hann frames, zero-padded to the FFT length, magnitude, HTK mel, log(x + offset)."""
    waveforms = np.asarray(waveforms, np.float32)
    frames = sliding_window_view(waveforms, params.window_samples, axis=-1)[:, :: params.hop_samples]
    # windowed into a zero-padded buffer: the FFT of contiguous rows of its own length runs about twice as fast
    # as `rfft(..., n=fft_length)` padding each frame itself
    padded = np.zeros((*frames.shape[:2], params.fft_length), np.float32)
    # tf.signal.hann_window's "periodic" window is the symmetric one at an odd length (551 samples at 22.05 kHz)
    window = hann(params.window_samples, periodic=params.window_samples % 2 == 0)
    np.multiply(frames, window, out=padded[..., : params.window_samples])
    spectra = np.abs(scipy.fft.rfft(padded, axis=-1))
    del padded  # memory: one of the three frame-sized arrays at a time where it can be
    mel = spectra @ htk_mel(params.sample_rate, params.fft_length, params.mel_bands, params.mel_min_hz,
                            params.mel_max_hz)
    mel += np.float32(params.log_offset)
    return np.log(mel, out=mel)
