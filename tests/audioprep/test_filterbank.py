"""audioprep.filterbank against librosa's own constants, and the feature front ends without librosa loaded."""

from __future__ import annotations

import subprocess
import sys

import librosa
import numpy as np
import pytest

from audioprep.filterbank import hann, hz_to_mel, mel_to_hz, slaney_mel
from audioprep.params import MelSliceParams, MfccParams

SHAPES = [  # (sample rate, n_fft, n_mels, fmin, fmax): the toolkit's two front ends, then others
    (MelSliceParams().sample_rate, MelSliceParams().n_fft, MelSliceParams().n_mels, MelSliceParams().fmin,
     MelSliceParams().fmax),
    (MfccParams().sample_rate, MfccParams().n_fft, MfccParams().n_mels, 0.0, None),
    (16000, 512, 64, 125.0, 7500.0),
    (44100, 2048, 128, 0.0, None),
    (8000, 256, 40, 300.0, 3400.0),
]


@pytest.mark.parametrize(("rate", "n_fft", "n_mels", "fmin", "fmax"), SHAPES)
def test_slaney_mel_is_librosas_filterbank(rate, n_fft, n_mels, fmin, fmax):
    ours = slaney_mel(rate, n_fft, n_mels, fmin, fmax)
    theirs = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.shape == theirs.shape == (n_mels, n_fft // 2 + 1) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)  # the largest seen: 4e-9, one float32 step
    assert not ours.flags.writeable  # cached: a caller cannot change everyone's copy


def test_mel_scale_is_linear_below_1_khz_and_logarithmic_above():
    hz = np.array([0.0, 200.0, 1000.0, 2000.0, 6400.0, 11025.0])
    np.testing.assert_allclose(hz_to_mel(hz), librosa.hz_to_mel(hz), rtol=1e-12)
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz)), hz, rtol=1e-12)
    assert hz_to_mel(6400.0) - hz_to_mel(1000.0) == pytest.approx(27.0)  # 27 mels for the 6.4x above the break


@pytest.mark.parametrize("n", [256, 400, 1024, 2048])
def test_hann_is_librosas_periodic_window(n):
    np.testing.assert_array_equal(hann(n), librosa.filters.get_window("hann", n, fftbins=True).astype(np.float32))


def test_features_run_without_loading_librosa_or_numba():
    """A command that featurises windows (predict, catalog, training on slices) never pays for numba's JIT."""
    code = ("import sys, numpy as np; from audioprep.features import log_mel, mfcc_mean; "
            "x = np.random.default_rng(0).standard_normal((2, 22050)).astype(np.float32); "
            "log_mel(x); mfcc_mean(x); "
            "print(sorted(m for m in ('librosa', 'numba', 'llvmlite') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
