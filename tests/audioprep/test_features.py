"""audioprep.features against independent computations: librosa and known tones."""

import librosa
import numpy as np

from audioprep import features
from audioprep.params import MelSliceParams, MfccParams


def tone(freq, sr, n, amp=0.5):
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


def test_mfcc_mean_matches_librosa_clip_by_clip():
    p = MfccParams()
    rng = np.random.default_rng(0)
    levels = np.array([[0.1], [0.001], [0.0]])  # a loud, a quiet and a silent clip: per-clip dB floors
    clips = (rng.standard_normal((3, p.sample_rate)) * levels).astype(np.float32)
    clips[2, : p.sample_rate // 2] = tone(500, p.sample_rate, p.sample_rate // 2)
    batched = features.mfcc_mean(clips, p)
    assert batched.shape == (3, 128)
    for clip, row in zip(clips, batched, strict=True):
        ref = librosa.feature.mfcc(y=clip, sr=p.sample_rate, n_mfcc=128).mean(axis=1)
        np.testing.assert_allclose(row, ref, rtol=1e-3, atol=2e-2)


def test_log_mel_slices_shape_and_tone_band():
    p = MelSliceParams()
    clip = tone(1000, p.sample_rate, p.slice_samples)
    mel = features.log_mel(clip[None], p)
    assert mel.shape == (1, 64, 64)
    centres = librosa.mel_frequencies(p.n_mels + 2, fmin=p.fmin, fmax=p.fmax)[1:-1]
    assert abs(centres[mel[0].mean(axis=0).argmax()] - 1000) < 120
    ref = np.log(librosa.feature.melspectrogram(
        y=clip, sr=p.sample_rate, n_fft=p.n_fft, hop_length=p.hop_length, n_mels=p.n_mels,
        fmin=p.fmin, fmax=p.fmax, center=False) + p.log_floor).T
    np.testing.assert_allclose(mel[0], ref, atol=1e-3)


def test_mel_slices_cut_a_recording():
    p = MelSliceParams()
    audio = np.zeros(p.slice_samples * 3 + 100, np.float32)
    assert features.mel_slices(audio, p).shape == (3, 64, 64)
    assert features.mel_slices(audio[:100], p).shape == (0, 64, 64)


def test_batched_features_do_not_depend_on_how_the_batch_is_tiled(monkeypatch):
    from audioprep import tiles

    p = MfccParams(sample_rate=8000)
    clips = np.random.default_rng(4).standard_normal((7, 8000)).astype(np.float32)
    whole_mfcc = features.mfcc_mean(clips, p)
    monkeypatch.setattr(tiles, "TILE_BYTES", 1)  # one clip per tile, tiles spread over the pool
    np.testing.assert_allclose(features.mfcc_mean(clips, p), whole_mfcc, rtol=1e-5, atol=1e-4)
    assert features.mfcc_mean(np.zeros((0, 8000), np.float32), p).shape == (0, 128)


def test_tiled_features_work_in_a_forked_child(monkeypatch):
    import multiprocessing

    from audioprep import tiles

    monkeypatch.setattr(tiles, "TILE_BYTES", 1)  # the child inherits this: one clip per tile, on the pool
    clips = np.random.default_rng(5).standard_normal((4, 8000)).astype(np.float32)
    expected = _tiled_mfcc(clips)  # the parent's pool now exists
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_tiled_mfcc, (clips,)).get(timeout=60)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def _tiled_mfcc(clips):
    return features.mfcc_mean(clips, MfccParams(sample_rate=8000))
