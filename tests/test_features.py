"""audioprep.features against independent computations: librosa, numpy FFT, known tones."""

import librosa
import numpy as np
import pytest

from audioprep import features
from audioprep.params import MelSliceParams, MfccParams, YamnetParams


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


def test_yamnet_front_end_puts_440hz_in_the_right_band():
    p = YamnetParams()
    wave = tone(440, 16000, 16000)
    mel = features.yamnet_log_mel(wave[None], p).numpy()
    assert mel.shape == (1, 98, 64)  # 1 + (16000 - 400) // 160 frames
    edges = librosa.mel_frequencies(p.mel_bands + 2, fmin=p.mel_min_hz, fmax=p.mel_max_hz, htk=True)
    band = mel[0].mean(axis=0).argmax()
    assert edges[band] <= 440 <= edges[band + 2]
    silence = features.yamnet_log_mel(np.zeros((1, 16000), np.float32), p).numpy()
    np.testing.assert_allclose(silence, np.log(p.log_offset), atol=1e-6)


def test_yamnet_log_mel_layer_loads_configs_that_carry_the_old_export_flag():
    layer = features.YamnetLogMel.from_config({"name": "log_mel", "tflite_compatible": True})
    waves = np.random.default_rng(1).uniform(-0.5, 0.5, (2, 16000)).astype(np.float32)
    np.testing.assert_allclose(layer(waves), features.yamnet_log_mel(waves), atol=1e-6)


def test_yamnet_magnitude_equals_numpy_fft():
    p = YamnetParams()
    rng = np.random.default_rng(2)
    wave = rng.uniform(-0.5, 0.5, 16000).astype(np.float32)
    frame = wave[:400] * np.hanning(401)[:400]
    mag = np.abs(np.fft.rfft(frame, 512))
    import tensorflow as tf
    matrix = tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125.0, 7500.0).numpy()
    expected = np.log(mag @ matrix + p.log_offset)
    got = features.yamnet_log_mel(wave[None]).numpy()[0, 0]
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_patches_and_wave_frames():
    waves = np.zeros((2, 16000), np.float32)
    assert tuple(features.yamnet_patches(waves).shape) == (2, 1, 96, 64)
    three_seconds = np.zeros((1, 48000), np.float32)
    assert tuple(features.yamnet_patches(three_seconds).shape) == (1, 5, 96, 64)
    frames = features.wave_frames(np.arange(32000, dtype=np.float32).reshape(2, 16000))
    assert frames.shape == (2, 40, 400) and frames[1, 1, 0] == 16400
    with pytest.raises(ValueError):
        features.wave_frames(np.zeros((1, 100)))


def test_yamnet_patches_equal_the_tensorflow_front_end_framed():
    p = YamnetParams()
    waves = np.random.default_rng(3).uniform(-0.5, 0.5, (3, 40000)).astype(np.float32)
    patches = features.yamnet_patches(waves, p)
    log_mel = features.yamnet_log_mel(waves, p).numpy()  # (3, 248, 64)
    assert patches.shape == (3, 4, 96, 64)
    for i in range(4):
        start = i * p.patch_hop_frames
        np.testing.assert_allclose(patches[:, i], log_mel[:, start : start + p.patch_frames], atol=1e-4)
    assert features.yamnet_patches(waves[:, :15000], p).shape == (3, 0, 96, 64)  # too short for a patch
    assert features.yamnet_patches(waves[:, :100], p).shape == (3, 0, 96, 64)  # too short for a frame


def test_batched_features_do_not_depend_on_how_the_batch_is_tiled(monkeypatch):
    from audioprep import tiles

    p = MfccParams(sample_rate=8000)
    clips = np.random.default_rng(4).standard_normal((7, 8000)).astype(np.float32)
    waves = clips.repeat(2, axis=1)  # 16000 samples: one YAMNet patch per clip
    whole_mfcc, whole_patches = features.mfcc_mean(clips, p), features.yamnet_patches(waves)
    monkeypatch.setattr(tiles, "TILE_BYTES", 1)  # one clip per tile, tiles spread over the pool
    np.testing.assert_allclose(features.mfcc_mean(clips, p), whole_mfcc, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(features.yamnet_patches(waves), whole_patches, atol=1e-5)
    assert features.mfcc_mean(np.zeros((0, 8000), np.float32), p).shape == (0, 128)


def test_yamnet_layer_in_a_model():
    import keras
    inp = keras.Input((16000,))
    model = keras.Model(inp, features.YamnetLogMel()(inp))
    out = model(np.zeros((3, 16000), np.float32))
    assert tuple(out.shape) == (3, 98, 64)


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
