"""asmr_generate.mel.invert: Griffin-Lim gives audio whose log-mel matches the input's."""

import numpy as np

from asmr_generate.mel.invert import mel_to_audio
from audioprep.features import log_mel
from audioprep.params import MelSliceParams


def test_inversion_restores_level_and_spectrum():
    p = MelSliceParams()
    rng = np.random.default_rng(0)
    t = np.arange(p.slice_samples) / p.sample_rate
    clips = np.stack([
        0.3 * np.sin(2 * np.pi * 660 * t) + 0.05 * rng.standard_normal(len(t)),
        0.1 * rng.standard_normal(len(t)),
    ]).astype(np.float32)
    mels = log_mel(clips, p)
    audio = mel_to_audio(mels, p, n_iter=32)
    assert audio.shape == (2, p.slice_samples) and audio.dtype == np.float32
    rms_in, rms_out = np.sqrt((clips**2).mean(1)), np.sqrt((audio**2).mean(1))
    np.testing.assert_allclose(rms_out, rms_in, rtol=0.25)
    rebuilt = log_mel(audio, p)
    loud = mels > np.log(1e-2)
    assert np.abs(rebuilt - mels)[loud].mean() < 0.5
    single = mel_to_audio(mels[0], p, n_iter=4)
    assert single.shape == (p.slice_samples,)
