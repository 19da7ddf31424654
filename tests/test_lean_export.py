"""TFLite export: builtin ops only, float parity with Keras, labels and rate in its metadata, the CLI on top of it,
and (acceptance) the export in MediaPipe's AudioClassifier, clip and stream mode, agreeing with `python -m lean tag`.

One untrained LEAN is exported once for the whole module: tracing and converting it is most of the time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mediapipe_fixtures import LEAN_LABELS as LABELS
from mediapipe_fixtures import clip_results, stream_results

from audioprep.io import write_audio
from audioprep.tflite_export import flex_ops
from lean.__main__ import main
from lean.scoring import TfliteScorer, labels_path


@pytest.fixture(scope="module")
def lean_float_export(tmp_path_factory):
    """(model, keras_file, report, exporter): an untrained LEAN (seed 0), saved, its float export alone in its
    folder, and the exporter that wrote it (already traced and converted to float, for the int8 test)."""
    import keras

    from lean.export import Exporter
    from lean.model import build_model

    keras.utils.set_random_seed(0)
    model = build_model("lean", len(LABELS))
    folder = tmp_path_factory.mktemp("lean_float")
    (folder / "keras").mkdir()
    model.save(folder / "keras" / "lean.keras")
    exporter = Exporter(model, LABELS)
    report = exporter.write(folder / "export" / "lean.tflite", "none")
    return model, folder / "keras" / "lean.keras", report, exporter


@pytest.fixture(scope="module")
def exported(lean_float_export):
    """(model, folder, report): the session's untrained LEAN and the folder of its float export."""
    model, _, report, _ = lean_float_export
    return model, Path(report["path"]).parent, report


def test_float_export_is_builtin_only_and_matches_keras(exported):
    model, folder, report = exported
    assert flex_ops(report["ops"]) == []
    assert {"RFFT2D", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "LOG", "SOFTMAX"} <= set(report["ops"])
    assert "WHILE" not in report["ops"]  # unrolled LSTMs
    assert not labels_path(folder / "lean.tflite").exists()  # the labels are in the file
    scorer = TfliteScorer(folder / "lean.tflite")
    assert scorer.labels == LABELS and scorer.window == 16000
    x = np.random.default_rng(3).uniform(-0.8, 0.8, (3, 16000)).astype(np.float32)
    np.testing.assert_allclose(scorer(x), np.asarray(model(x)), atol=1e-5)  # the trained model itself
    assert report["max_abs_diff_vs_keras"] <= 1e-5 and report["parity_ok"]


def test_flex_ops_are_flagged():
    assert flex_ops(["CONV_2D", "FlexRFFT", "CUSTOM"]) == ["FlexRFFT", "CUSTOM"]


def test_tag_cli_runs_the_export(exported, lean_float_export, tmp_path, capsys):
    from audioprep.io import write_audio

    _, folder, _ = exported
    audio = np.random.default_rng(0).uniform(-0.3, 0.3, int(2.5 * 16000)).astype(np.float32)
    wav = write_audio(tmp_path / "clip.wav", audio, 16000)
    assert main(["tag", str(wav), "--model", str(folder / "lean.tflite"), "--top", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [w["start"] for w in out["windows"]] == [0.0, 0.5, 1.0, 1.5]
    assert all(len(w["labels"]) == 2 and w["labels"][0]["label"] in LABELS for w in out["windows"])
    assert main(["tag", str(wav), "--model", str(lean_float_export[1]), "--top", "1"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    with pytest.raises(SystemExit) as exit_info:  # argparse: one usage line + one error line naming the file
        main(["tag", str(tmp_path / "missing.wav"), "--model", str(folder / "lean.tflite")])
    assert exit_info.value.code == 2 and "missing.wav" in capsys.readouterr().err
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    assert main(["tag", str(wav), "--model", str(tmp_path / "broken.tflite")]) == 2
    assert "broken.tflite" in capsys.readouterr().err


def test_tagging_with_a_tflite_model_does_not_import_tensorflow(exported, tmp_path):
    import subprocess
    import sys

    from audioprep.io import write_audio

    _, folder, _ = exported
    wav = write_audio(tmp_path / "clip.wav", np.zeros(16000, np.float32), 16000)
    code = (
        "import sys; from lean.__main__ import main; code = main(sys.argv[1:]); "
        "print(code, sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))"
    )
    args = ["tag", str(wav), "--model", str(folder / "lean.tflite"), "--top", "1"]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "0 []", done.stderr


def test_int8_export_keeps_the_log_mel_front_end_float(exported, lean_float_export, tmp_path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    _, _, float_report = exported
    rng = np.random.default_rng(4)
    calibration = (rng.uniform(-1, 1, (8, 16000)) * rng.uniform(0.001, 0.5, (8, 1))).astype(np.float32)
    report = lean_float_export[3].write(tmp_path / "lean_int8.tflite", "int8", calibration)
    assert flex_ops(report["ops"]) == [] and "QUANTIZE" in report["ops"]
    plain = Interpreter(
        model_path=str(tmp_path / "lean_int8.tflite"),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    tensors = {t["index"]: t for t in plain.get_tensor_details()}
    ops = plain._get_ops_details()
    input_types = {op["op_name"]: tensors[op["inputs"][0]]["dtype"] for op in ops}
    assert input_types["LOG"] == np.float32 and input_types["COMPLEX_ABS"] == np.complex64  # front end: float
    convs = [op for op in ops if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert convs and all(tensors[op["inputs"][1]]["dtype"] == np.int8 for op in convs)  # YAMNet: int8 weights
    assert report["bytes"] < 0.35 * float_report["bytes"]
    assert report["max_abs_diff_vs_keras"] < 0.05


# ------------------------------------------------------------------ MediaPipe (the Android stand-in)

RATE = 16000


@pytest.fixture(scope="module")
def clip():
    rng = np.random.default_rng(0)
    return (0.3 * np.sin(2 * np.pi * np.cumsum(rng.uniform(200, 2000, 3 * RATE)) / RATE)
            + 0.05 * rng.standard_normal(3 * RATE)).astype(np.float32)


def _tag(model, wav, capsys) -> list[tuple[float, str, float]]:
    assert main(["tag", str(wav), "--model", str(model), "--top", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["windows"]
    return [(r["start"], r["labels"][0]["label"], r["labels"][0]["score"]) for r in rows]


def test_mediapipe_clip_mode_matches_lean_tag_without_a_labels_file(lean_float_export, clip, tmp_path, capsys):
    exported = Path(lean_float_export[2]["path"])
    assert list(exported.parent.iterdir()) == [exported]
    got = clip_results(exported, clip, RATE)
    assert [t for t, _, _ in got] == [0, 1000, 2000]
    tagged = [row for row in _tag(exported, write_audio(tmp_path / "clip.wav", clip, RATE), capsys) if row[0] % 1 == 0]
    assert [row[0] for row in tagged] == [0.0, 1.0, 2.0]  # tag's 50 % overlap: every other window is MediaPipe's
    assert [label for _, label, _ in got] == [label for _, label, _ in tagged]
    np.testing.assert_allclose([s for _, _, s in got], [s for _, _, s in tagged], atol=1e-4)


def test_mediapipe_clip_mode_at_44k_stereo_and_stream_mode_give_the_same_labels(lean_float_export, clip):
    exported = Path(lean_float_export[2]["path"])
    import soxr

    full = clip_results(exported, clip, RATE)
    high = soxr.resample(clip, RATE, 44100).astype(np.float32)
    resampled = clip_results(exported, np.stack([high, high], axis=1), 44100)[:3]
    assert [(t, label) for t, label, _ in resampled] == [(t, label) for t, label, _ in full]
    np.testing.assert_allclose([s for _, _, s in resampled], [s for _, _, s in full], atol=2e-3)
    streamed = stream_results(exported, clip, RATE, block_ms=100)
    assert [(t, label) for t, label, _ in streamed[:3]] == [(t, label) for t, label, _ in full]
    np.testing.assert_allclose([s for _, _, s in streamed[:3]], [s for _, _, s in full], atol=1e-6)
