"""The timbral_models compatibility layer: it runs, it is right on known signals, it patches nothing global."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal

from asmr_generate.mel.timbral import ATTRIBUTES, timbral_attributes

SR = 22050


def _noise_burst(cutoff: float, btype: str) -> np.ndarray:
    t = np.arange(SR) / SR
    noise = np.random.default_rng(0).standard_normal(SR) * np.exp(-4 * t)
    return scipy.signal.lfilter(*scipy.signal.butter(4, cutoff / (SR / 2), btype), noise)


@pytest.fixture(scope="module")
def scores():
    dark, bright = _noise_burst(800, "low"), _noise_burst(4000, "high")
    return timbral_attributes(dark, SR), timbral_attributes(bright, SR)


def test_all_seven_attributes_are_finite_numbers(scores):
    for result in scores:
        assert list(result) == list(ATTRIBUTES)
        assert all(np.isfinite(v) for v in result.values())


def test_brighter_signal_scores_brighter_and_sharper(scores):
    dark, bright = scores
    assert bright["brightness"] > dark["brightness"] + 20
    assert bright["sharpness"] > dark["sharpness"] + 20


def test_darker_signal_scores_deeper_warmer_boomier(scores):
    dark, bright = scores
    assert dark["depth"] > bright["depth"] + 20
    assert dark["warmth"] > bright["warmth"] + 10
    assert dark["boominess"] > bright["boominess"] + 10


def test_numpy_and_librosa_themselves_are_left_alone(scores):
    assert not hasattr(np.lib, "pad")
    with pytest.raises(TypeError):
        librosa.resample(np.zeros(100), 22050, 44100)
