"""Acceptance: Lin's Conv1D trained on Lin's own corpus (10 s clips, clip-mean MFCC front end in the graph) exports
in float and int8 from the run alone, runs in MediaPipe's AudioClassifier in clip and stream mode with labels from
the file, and agrees with `asmr_classify predict` reading the same file."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from mediapipe_fixtures import clip_results, op_input_types, stream_results
from shared_build import shared_build

from asmr_classify.__main__ import main
from asmr_classify.predict import classify_file, load_classifier
from asmr_classify.train import train_classifier
from asmr_tflite.model import TfliteModel
from asmr_training.run_spec import RunSpec
from audioprep.io import load_audio, write_audio

RATE, WINDOW = 22050, 220500  # MfccParams: Lin's 10 s clips at 22.05 kHz


def _export(run, quantize: str, out) -> dict:
    """`asmr_classify export --json` with no --data: calibration and scoring on the run's own corpus."""
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert main(["export", "--model", str(run), "--quantize", quantize, "--out", str(out), "--json"]) == 0
    return json.loads(printed.getvalue())


@pytest.fixture(scope="module")
def lin(small_layout, tmp_path_factory):
    """A one-epoch Lin model on the small asmr85 + commonvoice corpora, its float and int8 exports and reports
    (trained and exported once per pytest run)."""

    def train_and_export(folder: Path) -> dict:
        parent = folder / "corpus"
        parent.mkdir()
        for layout in ("asmr85", "commonvoice"):
            (parent / layout).symlink_to(small_layout(layout), target_is_directory=True)
        run = train_classifier("lin_conv1d", RunSpec(folder / "run", parent, epochs=1), verbose=0, batch_size=16).path
        return {q: _export(run, q, folder / q / "lin.tflite") for q in ("none", "int8")}

    exports = shared_build(tmp_path_factory, "lin_export", train_and_export)
    audio = load_audio(sorted(small_layout("asmr85").glob("*.wav"))[0], RATE)[0][: 2 * WINDOW]
    assert len(audio) == 2 * WINDOW
    return exports, audio.astype(np.float32)


def test_both_exports_score_lins_test_split_from_the_run_alone(lin):
    exports, _ = lin
    none, int8 = exports["none"], exports["int8"]
    assert none["parity_ok"] and none["max_abs_diff_vs_keras"] <= 1e-5
    # the small corpus's test split: 1 recording cut into 10 s clips + its speech clips, one padded window each
    assert none["test_windows"] == int8["test_windows"] == 7
    assert none["tflite_accuracy"] == none["keras_accuracy"]
    assert abs(int8["tflite_accuracy"] - int8["keras_accuracy"]) <= 1 / 7
    assert {"RFFT2D", "LOG", "REDUCE_MAX", "CONV_2D", "SOFTMAX"} <= set(none["ops"])
    types = op_input_types(int8["path"])  # the MFCC front end float (framing, mel matmul, log), the Conv1D int8
    assert types["GATHER"] == types["LOG"] == types["REDUCE_MAX"] == np.float32 and types["CONV_2D"] == np.int8
    assert int8["bytes"] < none["bytes"] / 2  # measured 1.72 of 4.86 MB: the float mel matrix stays


def test_clip_mode_matches_predict_with_labels_from_the_file(lin, tmp_path):
    exports, audio = lin
    path = exports["none"]["path"]
    assert [p.name for p in Path(path).parent.iterdir()] == ["lin.tflite"]
    got = clip_results(path, audio, RATE)
    assert [t for t, _, _ in got] == [0, 10000]
    clf = load_classifier(path)
    assert (clf.classes, clf.window_samples, clf.sample_rate) == (["asmr", "speech"], WINDOW, RATE)
    ours = classify_file(clf, write_audio(tmp_path / "clip.wav", audio, RATE), overlap=0.0).windows
    assert [label for _, label, _ in got] == [w.label for w in ours]
    np.testing.assert_allclose([s for _, _, s in got], [w.confidence for w in ours], atol=1e-4)


def test_stream_mode_gives_the_clip_labels(lin):
    exports, audio = lin
    path = exports["none"]["path"]
    full = clip_results(path, audio, RATE)
    streamed = stream_results(path, audio, RATE, block_ms=100)
    assert [(t, label) for t, label, _ in streamed[:2]] == [(t, label) for t, label, _ in full]
    np.testing.assert_allclose([s for _, _, s in streamed[:2]], [s for _, _, s in full], atol=1e-5)


def test_int8_export_runs_in_mediapipe_like_our_interpreter(lin):
    exports, audio = lin
    path = exports["int8"]["path"]
    ours = TfliteModel(path)(audio.reshape(2, WINDOW))
    got = clip_results(path, audio, RATE)
    assert [label for _, label, _ in got] == [["asmr", "speech"][i] for i in ours.argmax(axis=1)]
    np.testing.assert_allclose([s for _, _, s in got], ours.max(axis=1), atol=1e-3)
