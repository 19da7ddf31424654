"""LEAN's log-mel front end: numbers against numpy (and the tag pass's numpy twin against it), old saved models,
and a sample rate other than 16 kHz end to end."""

from __future__ import annotations

import dataclasses
import json
import zipfile

import keras
import numpy as np
import pytest

from asmr_audioset import log_mel as numpy_front_end
from audioprep.errors import UsageError
from audioprep.filterbank import htk_mel
from lean.front_end import YamnetLogMel, log_mel, mel_matrix
from lean.params import FrontEndParams, LeanParams

RATE = 22050  # 1 s = 40 wave frames of 551 samples + 10; 25 ms windows of 551, 10 ms hops of 220


def test_default_front_end_is_yamnets_16khz_framing():
    p = LeanParams().front_end
    assert (p.sample_rate, p.window_samples, p.hop_samples, p.fft_length) == (16000, 400, 160, 512)
    assert (p.frames(16000), p.patch_frames, p.mel_bands) == (98, 96, 64)
    assert p.frames(399) == 0 and p.frames(400) == 1
    assert LeanParams().wave_frame_length == 400


def test_log_mel_magnitude_equals_numpy_fft():
    import tensorflow as tf

    p = LeanParams().front_end
    wave = np.random.default_rng(2).uniform(-0.5, 0.5, 16000).astype(np.float32)
    frame = wave[160:560] * np.hanning(401)[:400]  # the second frame; tf.signal's Hann is periodic
    matrix = tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125.0, 7500.0).numpy()
    expected = np.log(np.abs(np.fft.rfft(frame, 512)) @ matrix + 0.001)
    np.testing.assert_allclose(np.asarray(log_mel(wave[None], p))[0, 1], expected, atol=1e-3)


@pytest.mark.parametrize("rate", [16000, RATE])
def test_the_numpy_front_end_is_the_tensorflow_one(rate):
    """The tag pass's log-mel (asmr_audioset.log_mel, no TensorFlow) and its HTK filterbank equal the layer's.
    Measured at 16 kHz: filterbank within 8e-6 (TensorFlow builds it in float32), log-mel within 1.1e-4 (2.5e-5
    of the value) on noise and a noisy chirp; a pure tone's empty bands (leakage of 1e-6 against the 0.001
    offset) differ more. At 22.05 kHz the 551-sample window is TensorFlow's odd-length "periodic" Hann."""
    p = dataclasses.replace(LeanParams().front_end, sample_rate=rate)
    bank = htk_mel(p.sample_rate, p.fft_length, p.mel_bands, p.mel_min_hz, p.mel_max_hz)
    np.testing.assert_allclose(bank, mel_matrix(p), rtol=0, atol=2e-5)
    assert bank.shape == (p.fft_length // 2 + 1, p.mel_bands) and not bank.flags.writeable
    rng = np.random.default_rng(3)
    t = np.arange(rate) / rate
    waves = np.stack([rng.uniform(-0.5, 0.5, rate), 0.1 * rng.normal(size=rate),
                      0.5 * np.sin(2 * np.pi * (200 * t + 3000 * t**2)) + 0.01 * rng.normal(size=rate)])
    ours = numpy_front_end.log_mel(waves.astype(np.float32), p)
    assert ours.shape == (3, p.frames(rate), p.mel_bands) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, np.asarray(log_mel(waves, p)), rtol=1e-4, atol=1e-4)


def test_configs_saved_before_the_move_load_as_16khz(tmp_path):
    """A .keras file whose front end was `audioprep.features.YamnetLogMel` (no params, an old export flag)."""
    wave = keras.Input((16000,))
    keras.Model(wave, YamnetLogMel(LeanParams().front_end, name="log_mel")(wave)).save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as src:
        files = {name: src.read(name) for name in src.namelist()}
    config = json.loads(files["config.json"])
    layer = next(item for item in config["config"]["layers"] if item["class_name"] == "YamnetLogMel")
    assert layer["registered_name"] == "audioprep>YamnetLogMel"
    layer["module"] = "audioprep.features"
    del layer["config"]["params"]
    layer["config"]["tflite_compatible"] = True
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "old.keras", "w") as dst:
        for name, data in files.items():
            dst.writestr(name, data)
    old = keras.models.load_model(tmp_path / "old.keras")
    assert old.get_layer("log_mel").params == LeanParams().front_end
    waves = np.random.default_rng(1).uniform(-0.5, 0.5, (2, 16000)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(old(waves)), np.asarray(log_mel(waves, LeanParams().front_end)))


def test_a_rate_below_the_mel_bands_is_refused_naming_the_field():
    with pytest.raises(UsageError, match=r"^LeanParams.sample_rate=8000: .*7500 Hz.*4000 Hz"):
        LeanParams(sample_rate=8000)


def test_hub_yamnet_is_refused_at_another_rate():
    from lean.yamnet import hub_embedding_model

    with pytest.raises(UsageError, match=rf"^LeanParams.sample_rate={RATE}: the hub YAMNet takes 16000 Hz"):
        hub_embedding_model("https://tfhub.dev/google/yamnet/1", LeanParams(sample_rate=RATE))


@pytest.fixture(scope="module")
def model_at_22khz():
    from lean.model import build_model

    params = dataclasses.replace(LeanParams(), sample_rate=RATE)
    keras.utils.set_random_seed(0)
    return params, build_model("lean", 3, params)


def test_front_end_and_wave_encoder_follow_the_sample_rate(model_at_22khz, tmp_path):
    params, model = model_at_22khz
    front_end = model.get_layer("yamnet_embedding").get_layer("log_mel")
    assert front_end.params == params.front_end == FrontEndParams(RATE)
    p = front_end.params
    assert (p.window_samples, p.hop_samples, p.fft_length, p.frames(RATE)) == (551, 220, 1024, 98)
    assert model.inputs[0].shape[-1] == RATE
    assert model.get_layer("wave_frames").output.shape[1:] == (40, 551)
    # A 440 Hz tone lands in mel band 8 at this rate too (HTK mel, 125-7500 Hz, centre ~437 Hz).
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)).astype(np.float32)
    mel = np.asarray(front_end(tone[None]))[0]
    assert mel.shape == (98, 64) and int(np.argmax(mel.mean(axis=0))) == 8
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, RATE)).astype(np.float32)
    model.save(tmp_path / "lean.keras")
    loaded = keras.models.load_model(tmp_path / "lean.keras")
    assert loaded.get_layer("yamnet_embedding").get_layer("log_mel").params == params.front_end
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


def test_export_at_the_rate_takes_its_window_and_frames_it_the_same(model_at_22khz, tmp_path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from lean.export import export_model, export_tflite
    from lean.scoring import TfliteScorer

    params, model = model_at_22khz
    with pytest.raises(UsageError, match=rf"^LeanParams.sample_rate=16000: the model takes {RATE}-sample windows"):
        export_model(model, LeanParams())
    report = export_tflite(model, tmp_path / "lean.tflite", ["a", "b", "c"], "none", params=params)
    assert report["parity_ok"], report["max_abs_diff_vs_keras"]
    assert TfliteScorer(tmp_path / "lean.tflite").window == params.patch_samples == RATE
    plain = Interpreter(
        model_path=str(tmp_path / "lean.tflite"),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    shapes = {t["index"]: tuple(t["shape"]) for t in plain.get_tensor_details()}
    log = next(op for op in plain._get_ops_details() if op["op_name"] == "LOG")
    assert shapes[log["outputs"][0]] == (1, params.front_end.frames(RATE), 64)
