"""The exported classifiers' in-graph front ends compute what training computed in numpy."""

from __future__ import annotations

import numpy as np

from asmr_classify import graph_front_end
from audioprep.features import log_mel, mfcc_mean
from audioprep.params import MelSliceParams, MfccParams

PARAMS = MelSliceParams()


def _windows() -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(PARAMS.slice_samples) / PARAMS.sample_rate
    return np.stack([0.3 * np.sin(2 * np.pi * 440 * t), rng.uniform(-0.5, 0.5, t.size),
                     1e-3 * rng.standard_normal(t.size)]).astype(np.float32)


def test_log_mel_matches_numpy():
    x = _windows()
    graph = graph_front_end.features(x, "mel", PARAMS.sample_rate).numpy()
    assert graph.shape == (3, PARAMS.frames, PARAMS.n_mels)
    assert np.max(np.abs(graph - log_mel(x, PARAMS))) < 5e-4  # measured 1.1e-4 on values up to 13.8


def test_clip_mean_mfcc_matches_numpy():
    x = _windows()
    graph = graph_front_end.features(x, "mfcc", PARAMS.sample_rate).numpy()
    assert graph.shape == (3, MfccParams().n_mfcc, 1)
    assert np.max(np.abs(graph[..., 0] - mfcc_mean(x, MfccParams()))) < 5e-4  # measured 6.1e-5 on values up to 510


def test_raw_audio_passes_through():
    x = _windows()
    np.testing.assert_array_equal(graph_front_end.features(x, "audio", PARAMS.sample_rate).numpy(), x)
