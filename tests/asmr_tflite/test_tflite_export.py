"""asmr_tflite.export.Conversion: one trace gives the float, dynamic and int8 files, converting to float once."""

from __future__ import annotations

import numpy as np

from asmr_tflite import export as tflite_export
from asmr_tflite.metadata import AudioModelInfo
from asmr_tflite.model import TfliteModel

SAMPLES = 400
INFO = AudioModelInfo(name="tiny", description="a test model", labels=("a", "b", "c", "d"), sample_rate=8000)


def _forward(wave):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    with tf.name_scope("front"):  # stays float in int8, like a log-mel front end
        features = tf.math.log(tf.abs(wave) + 1e-3)
    weights = tf.constant(rng.normal(size=(SAMPLES, 4)).astype(np.float32) / 20)
    return tf.nn.softmax(tf.matmul(features, weights))


def test_one_trace_gives_every_export_and_converts_to_float_once(tmp_path, monkeypatch):
    made = []
    real = tflite_export._converted
    monkeypatch.setattr(tflite_export, "_converted", lambda concrete, q, *rest, **kw: made.append(q) or real(concrete, q, *rest, **kw))
    windows = np.random.default_rng(1).uniform(-0.5, 0.5, (8, SAMPLES)).astype(np.float32)
    conversion = tflite_export.Conversion(_forward, SAMPLES)
    files = {}
    for quantize in tflite_export.QUANTIZE:
        path = tmp_path / f"tiny_{quantize}.tflite"
        tflite_export.write_export(conversion.convert(quantize, windows, float_scope="front"), path, INFO)
        files[quantize] = TfliteModel(path)
    assert made == ["none", "dynamic", "int8"]  # int8 found the front end's operators in the kept float file
    sizes = {q: (tmp_path / f"tiny_{q}.tflite").stat().st_size for q in files}
    assert sizes["dynamic"] < sizes["none"] - 3 * SAMPLES and sizes["int8"] < sizes["none"] - 3 * SAMPLES  # int8 weights
    reference = np.asarray(_forward(windows))
    np.testing.assert_allclose(files["none"](windows), reference, atol=1e-5)
    for quantize in ("dynamic", "int8"):
        assert np.max(np.abs(files[quantize](windows) - reference)) < 0.05, quantize


def test_a_conversion_prints_nothing_unless_verbose():
    """The converter's own lines (absl's note on concrete functions, the calibration delegate's INFO line, the
    quantizer's statistics warning) are caught; --verbose lets them through."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from audioprep import console; console.configure(sys.argv[1:]); "
            "import tensorflow as tf; from asmr_tflite.export import convert; "
            "f = lambda w: tf.nn.softmax(tf.matmul(tf.math.log(tf.abs(w) + 1e-3), tf.ones((64, 3)) / 64)); "
            "w = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 64)).astype(np.float32); "
            "print(len(convert(f, 64, 'int8', w)) > 0)")
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert quiet.stdout.strip() == "True"
    assert not [line for line in quiet.stderr.splitlines() if "trackable_obj" in line or "XNNPACK" in line], quiet.stderr
    verbose = subprocess.run([sys.executable, "-c", code, "--verbose"], capture_output=True, text=True, timeout=300)
    assert "trackable_obj" in verbose.stderr
