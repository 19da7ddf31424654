"""TFLite export: builtin ops only, float parity with Keras, labels and rate in its metadata, and the CLI on top of it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mediapipe_fixtures import LEAN_LABELS as LABELS

from asmr_tflite.export import flex_ops
from lean.__main__ import main
from lean.scoring import TfliteScorer, labels_path


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
