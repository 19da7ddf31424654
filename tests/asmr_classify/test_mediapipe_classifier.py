"""Acceptance: a trained trigger classifier's exports run in MediaPipe's AudioClassifier (clip and stream mode),
labels from the file, and agree with `asmr_classify predict` reading the same file on the same windows."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soxr
from mediapipe_fixtures import clip_results, op_input_types, stream_results
from shared_build import shared_build

from asmr_classify.__main__ import main
from asmr_classify.predict import classify_file, load_classifier
from asmr_classify.train import train_classifier
from asmr_training.run_spec import RunSpec
from audioprep.io import write_audio

SMALL = dict(filters=8, dense_units=16, batch_size=16)


@pytest.fixture(scope="module")
def exports(small_layout, tmp_path_factory):
    """(run, corpus, {quantize: .tflite}): a cnn1d trained and exported float and int8, once per pytest run."""
    root = small_layout("deepasmr")

    def train_and_export(folder: Path) -> dict:
        run = train_classifier("cnn1d", RunSpec(folder / "run", root, epochs=2, max_per_file=3), verbose=0, **SMALL).path
        paths = {}
        for quantize in ("none", "int8"):
            paths[quantize] = str(folder / f"cnn1d_{quantize}.tflite")
            assert main(["export", "--model", str(run), "--quantize", quantize, "--out", paths[quantize],
                         "--data", str(root), "--json"]) == 0
        return {"run": str(run), "paths": paths}

    made = shared_build(tmp_path_factory, "classify_export", train_and_export)
    return Path(made["run"]), root, {quantize: Path(path) for quantize, path in made["paths"].items()}


@pytest.fixture(scope="module")
def clip(exports):
    """Three windows of a recording of the corpus's test split, at the model's rate."""
    clf = load_classifier(exports[2]["none"])
    wav = sorted(exports[1].rglob("*.wav"))[-1]
    from audioprep.io import load_audio

    audio = load_audio(wav, clf.sample_rate)[0][: 3 * clf.window_samples]
    assert len(audio) == 3 * clf.window_samples
    return clf, audio.astype(np.float32)


def _predict_windows(model_path, wav):
    """predict's windows with abstaining off: MediaPipe reports the top class, whatever its probability."""
    result = classify_file(dataclasses.replace(load_classifier(model_path), abstain=0.0), wav, overlap=0.0)
    return [(w.label, w.confidence) for w in result.windows]


def test_clip_mode_matches_predict_at_the_model_rate(exports, clip, tmp_path):
    clf, audio = clip
    path = exports[2]["none"]
    got = clip_results(path, audio, clf.sample_rate)
    step = 1000 * clf.window_samples // clf.sample_rate
    assert [t for t, _, _ in got] == [0, step, 2 * step]
    ours = _predict_windows(path, write_audio(tmp_path / "clip.wav", audio, clf.sample_rate))
    assert [label for _, label, _ in got] == [label for label, _ in ours]
    np.testing.assert_allclose([s for _, _, s in got], [c for _, c in ours], atol=1e-4)
    assert set(clf.classes) >= {label for _, label, _ in got} and clf.kind == "audio"


def test_clip_mode_resamples_and_downmixes_44k_stereo(exports, clip, tmp_path):
    clf, audio = clip
    path = exports[2]["none"]
    high = soxr.resample(audio, clf.sample_rate, 44100).astype(np.float32)
    # equal channels: with unequal ones MediaPipe 1.2.3's mix did not match the channel mean that predict uses
    stereo = np.stack([high, high])
    got = clip_results(path, stereo.T, 44100)[:3]  # a 4th window would be the resampler's zero-padded tail
    ours = _predict_windows(path, write_audio(tmp_path / "stereo.wav", stereo, 44100))[:3]
    assert [label for _, label, _ in got] == [label for label, _ in ours]
    np.testing.assert_allclose([s for _, _, s in got], [c for _, c in ours], atol=0.02)


def test_stream_mode_gives_the_clip_labels_once_a_window_fills(exports, clip):
    clf, audio = clip
    path = exports[2]["none"]
    full = clip_results(path, audio, clf.sample_rate)
    streamed = stream_results(path, audio, clf.sample_rate, block_ms=100)
    filled = (len(audio) // (clf.sample_rate // 10) * (clf.sample_rate // 10)) // clf.window_samples
    assert filled == 2
    assert [(t, label) for t, label, _ in streamed[:filled]] == [(t, label) for t, label, _ in full[:filled]]


def test_int8_export_runs_in_mediapipe_like_our_interpreter(exports, clip):
    from asmr_tflite.model import TfliteModel

    clf, audio = clip
    path = exports[2]["int8"]
    ours = TfliteModel(path)(audio.reshape(3, clf.window_samples))
    got = clip_results(path, audio, clf.sample_rate)
    assert [label for _, label, _ in got] == [clf.classes[i] for i in ours.argmax(axis=1)]
    np.testing.assert_allclose([s for _, _, s in got], ours.max(axis=1), atol=1e-3)
    assert path.stat().st_size < exports[2]["none"].stat().st_size
    types = op_input_types(path)  # the log-mel front end stays float (8-bit audio and power spectra lose quiet bins)
    assert types["GATHER"] == types["LOG"] == np.float32 and types["CONV_2D"] == np.int8


def test_export_report_prints_accuracy_beside_keras(exports, capsys):
    run, root, paths = exports
    assert main(["export", "--model", str(run), "--out", str(paths["none"].with_name("again.tflite")), "--data",
                 str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["parity_ok"] and report["max_abs_diff_vs_keras"] <= 1e-5
    assert report["test_windows"] > 0 and report["tflite_accuracy"] == report["keras_accuracy"]
    assert {"RFFT2D", "LOG", "SOFTMAX"} <= set(report["ops"])
