"""TFLite export for phones: builtin ops only, one 1 s waveform in, class scores out, labels beside it.

The trained model is rebuilt with unrolled LSTMs (the form the converter lowers to builtin ops
and full-int8 calibration accepts), its weights copied over, and converted at a fixed batch of
one; the log-mel front end converts as it is (RFFT2D + COMPLEX_ABS) and stays float inside an
int8 file. Every export is checked: its operator list may hold no Flex (Select TF) or custom op
(else the export fails), and a float export's scores are compared with the Keras model's
(`parity_ok`: within 1e-5; XNNPACK and oneDNN round differently, so a trained model with large
activations can drift a little past it).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from audioprep.errors import UsageError
from lean.model import HEAD, build_model
from lean.params import LeanParams
from lean.scoring import TfliteScorer, labels_path, write_labels
from lean.yamnet import FRONT_END

QUANTIZE = ("none", "dynamic", "int8")
PARITY_TOLERANCE = 1e-5


def export_model(model: keras.Model, params: LeanParams = LeanParams()) -> keras.Model:
    """The TFLite-ready twin of a trained native model: same weights, unrolled LSTMs."""
    if any(type(layer).__name__ == "HubYamnet" for layer in model._flatten_layers()):
        raise UsageError(
            "export needs the native YAMNet: train with --yamnet yamnet.h5 (official weights) instead of a hub handle"
        )
    samples = model.inputs[0].shape[-1]
    if samples != params.patch_samples:
        raise UsageError(
            f"LeanParams.sample_rate={params.sample_rate}: the model takes {samples}-sample windows, not "
            f"{params.patch_samples}; export it with the params it was built with"
        )
    twin = build_model(model.name, model.get_layer(HEAD).units, params, unroll=True)
    twin.set_weights(model.get_weights())
    return twin


def _converter(concrete, quantize: str, windows=None) -> tf.lite.TFLiteConverter:
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if windows is not None:
        converter.representative_dataset = windows
    return converter


def front_end_nodes(flatbuffer: bytes) -> list[str]:
    """Output tensor names of the log-mel front end's operators in a converted (float) model."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES  # XNNPACK would hide the operators
    interpreter = Interpreter(model_content=flatbuffer, experimental_op_resolver_type=resolver)
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    outputs = (names[op["outputs"][0]] for op in interpreter._get_ops_details() if len(op["outputs"]))
    return [name for name in outputs if f"/{FRONT_END}" in name]


def convert(twin: keras.Model, quantize: str = "none", representative: np.ndarray | None = None) -> bytes:
    """Convert at batch 1 with builtin ops only; `int8` needs representative 1 s windows for calibration.

    In `int8`, the log-mel front end stays float (as dynamic-range keeps it): the FFT magnitudes it
    works on span five orders of magnitude, and 8-bit activations there wipe out every quiet
    bin before the log (measured: mAP 0.62 -> 0.20 on the generated corpus). Everything from the
    log-mel on is int8.
    """
    if quantize not in QUANTIZE:
        raise UsageError(f"--quantize {quantize}: choose from {', '.join(QUANTIZE)}")
    samples = twin.inputs[0].shape[-1]
    function = tf.function(lambda wave: twin(wave, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec([1, samples], tf.float32, name="waveform"))
    if quantize != "int8":
        return strip_names(_converter(concrete, quantize).convert())
    if representative is None or len(representative) == 0:
        raise UsageError("--quantize int8 needs representative windows (the training data) for calibration")

    def windows():
        for window in representative:
            yield [np.asarray(window, np.float32)[None]]

    keep_float = front_end_nodes(_converter(concrete, "none").convert())
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=_converter(concrete, "int8", windows),
        debug_dataset=lambda: ([np.asarray(w, np.float32)[None]] for w in representative[:4]),
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=keep_float),
    )
    return strip_names(debugger.get_nondebug_quantized_model())


def strip_names(flatbuffer: bytes) -> bytes:
    """Drop tensor and subgraph names (debug strings: ~0.5 MB across the 40 unrolled LSTM steps)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    flatbuffer_utils.strip_strings(model)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def constant_bytes(path) -> int:
    """Bytes of the constant tensors (weights, biases, the mel matrix) in a .tflite file: its size
    without the graph and quantization parameters, the floor for any file of the same model."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    return sum(len(buffer.data) for buffer in model.buffers if buffer.data is not None)


def calibration_windows(clips: list[np.ndarray], params: LeanParams = LeanParams(), count: int = 200) -> np.ndarray:
    """The int8 calibration set: the first 1 s patch of `count` training clips drawn with the params' seed."""
    from lean.data import clip_patches

    order = np.random.default_rng(params.seed).permutation(len(clips))[:count]
    return np.stack([clip_patches(clips[i], params, 1)[0] for i in order])


def flex_ops(op_names: list[str]) -> list[str]:
    """Operators an Android app without the Select-TF-ops library could not run."""
    return [name for name in op_names if name.startswith("Flex") or name in ("CUSTOM", "DELEGATE")]


def export_tflite(
    model: keras.Model,
    out,
    labels: list[str],
    quantize: str = "none",
    representative: np.ndarray | None = None,
    params: LeanParams = LeanParams(),
) -> dict:
    """Write `out` (.tflite) and `<stem>.labels.txt`; check builtin-only ops and, for float, parity with Keras."""
    out = Path(out)
    if out.suffix != ".tflite":
        raise UsageError(f"--out {out}: the exported file must end in .tflite")
    twin = export_model(model, params)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(convert(twin, quantize, representative))
    write_labels(labels_path(out), labels)
    scorer = TfliteScorer(out, labels)
    ops = scorer.op_names()
    bad = flex_ops(ops)
    if bad:
        raise UsageError(f"{out}: conversion left non-builtin ops {bad}")
    report = {"path": str(out), "quantize": quantize, "bytes": out.stat().st_size, "ops": ops}
    if representative is not None and len(representative):
        probe = np.asarray(representative[:4], np.float32)  # in the calibrated range
    else:
        probe = np.random.default_rng(params.seed).uniform(-0.5, 0.5, (4, params.patch_samples)).astype(np.float32)
    keras_scores = np.asarray(twin(probe, training=False))
    report["max_abs_diff_vs_keras"] = float(np.max(np.abs(scorer(probe) - keras_scores)))
    report["parity_ok"] = quantize != "none" or report["max_abs_diff_vs_keras"] <= PARITY_TOLERANCE
    return report
