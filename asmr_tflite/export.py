"""Waveform-in, scores-out TFLite files for phones, shared by `lean export` and `asmr_classify export`.

A model that takes one window of raw audio is traced at a batch of one and converted with builtin
ops only (an app without the Select-TF-ops library runs it), compacted (`compact`), and the audio
metadata written in (`asmr_tflite.metadata`), so MediaPipe's AudioClassifier loads it. In `int8`,
the operators of the in-graph feature front end stay float: the FFT magnitudes span five orders of
magnitude and 8-bit activations there wipe out every quiet bin before the log (LEAN: mAP 0.62 ->
0.20 on the generated corpus); the other activations' ranges are calibrated as
`asmr_tflite.calibration.Int8Options` says. TensorFlow is imported inside the functions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from asmr_tflite.calibration import Int8Options, quantile_ranges
from asmr_tflite.metadata import AudioModelInfo, populate
from audioprep import console
from audioprep.errors import UsageError

QUANTIZE = ("none", "dynamic", "int8")
PARITY_TOLERANCE = 1e-5  # float export vs Keras; XNNPACK and oneDNN round differently


def _converted(concrete, quantize: str, windows=None, calibrate_only: bool = False) -> bytes:
    """One builtin-ops conversion. The converter's own stderr lines (absl's note on concrete functions, the
    delegate it calibrates with) are shown only with --verbose or when it fails (console.native_lines_caught)."""
    import tensorflow as tf

    with console.native_lines_caught():
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if windows is not None:
            converter.representative_dataset = windows
        converter._experimental_calibrate_only = calibrate_only  # True: a float model carrying each activation's range
        return converter.convert()


def op_output_names(flatbuffer: bytes, scope: str) -> list[str]:
    """Output tensor names of the operators under name scope `scope` in a converted (float) model."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES  # XNNPACK would hide the operators
    interpreter = Interpreter(model_content=flatbuffer, experimental_op_resolver_type=resolver)
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    outputs = (names[op["outputs"][0]] for op in interpreter._get_ops_details() if len(op["outputs"]))
    # "scope/...", ".../scope_1/..." (Keras numbers repeated scopes); ";" joins the names of fused operators
    inside = re.compile(rf"(^|[/;]){re.escape(scope)}(_\d+)?([/;]|$)")
    return [name for name in outputs if inside.search(name)]


class Conversion:
    """`forward` (a (1, samples) waveform -> (1, classes) scores) traced once and converted as often as asked.

    The float flatbuffer is kept: a full-int8 conversion converts to float first to find the front
    end's operators, so exporting float then int8 (table 7) converts to float once, not twice.
    """

    def __init__(self, forward: Callable, samples: int):
        import tensorflow as tf

        self.concrete = tf.function(forward).get_concrete_function(tf.TensorSpec([1, samples], tf.float32, name="waveform"))
        self._float: bytes | None = None

    def float_flatbuffer(self) -> bytes:
        """The float conversion with its tensor names (the int8 path matches scopes on them)."""
        if self._float is None:
            self._float = _converted(self.concrete, "none")
        return self._float

    def convert(self, quantize: str = "none", representative: np.ndarray | None = None,
                float_scope: str | tuple[str, ...] | None = None, int8: Int8Options = Int8Options()) -> bytes:
        """A builtin-only flatbuffer, compacted.

        `int8` needs representative windows for calibration (ranges and weight scales as `int8` says);
        operators under name scope `float_scope` (the front end; or under any of several scopes) stay float.
        """
        from tensorflow.lite.python.convert import mlir_quantize

        if quantize not in QUANTIZE:
            raise UsageError(f"--quantize {quantize}: choose from {', '.join(QUANTIZE)}")
        if quantize == "none":
            return compact(self.float_flatbuffer())
        if quantize == "dynamic":
            return compact(_converted(self.concrete, quantize))
        if representative is None or len(representative) == 0:
            raise UsageError("--quantize int8 needs representative windows (the training data) for calibration")

        def windows():
            for window in representative:
                yield [np.asarray(window, np.float32)[None]]

        calibrated = _converted(self.concrete, "int8", windows, calibrate_only=True)
        scopes = (float_scope,) if isinstance(float_scope, str) else tuple(float_scope or ())
        keep_float = [name for scope in scopes for name in op_output_names(self.float_flatbuffer(), scope)]
        if int8.range_quantile < 1:
            calibrated = quantile_ranges(calibrated, representative, int8.range_quantile, keep=keep_float)
        with console.native_lines_caught():
            quantized = mlir_quantize(calibrated, disable_per_channel=not int8.per_channel, denylisted_nodes=keep_float)
        return compact(quantized, sparse=int8.sparse_constants)


def convert(forward: Callable, samples: int, quantize: str = "none", representative: np.ndarray | None = None,
            float_scope: str | tuple[str, ...] | None = None, int8: Int8Options = Int8Options()) -> bytes:
    """One conversion of `forward` (see `Conversion`)."""
    return Conversion(forward, samples).convert(quantize, representative, float_scope, int8)


def compact(flatbuffer: bytes, sparse: bool = False) -> bytes:
    """The same model in fewer bytes: the description, subgraph names, every tensor name but the input's and
    output's (debug strings, ~0.2 MB in an int8 LEAN; the metadata names the two that stay), and the converter's
    one empty buffer per activation tensor (they point at the schema's empty buffer 0 instead, ~16 KB) dropped.
    With `sparse`, mostly-zero constants are first stored in TFLite's block-sparse format (the sparsifier writes
    the names back, so they go after it)."""
    from tensorflow.lite.python.convert import mlir_sparsify
    from tensorflow.lite.tools import flatbuffer_utils

    if sparse:
        flatbuffer = mlir_sparsify(flatbuffer)
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    model.description = None
    kept = [0] + [i for i, buffer in enumerate(model.buffers) if i and (buffer.data is not None or buffer.size)]
    renumber = {old: new for new, old in enumerate(kept)}
    model.buffers = [model.buffers[i] for i in kept]
    for entry in model.metadata or []:
        entry.buffer = renumber[entry.buffer]
    for subgraph in model.subgraphs:
        subgraph.name = None
        keep = set(subgraph.inputs.tolist()) | set(subgraph.outputs.tolist())
        for index, tensor in enumerate(subgraph.tensors):
            tensor.buffer = renumber.get(tensor.buffer, 0)
            if index not in keep:
                tensor.name = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def op_names(path) -> list[str]:
    """Every operator stored in a model file (builtin names, or FlexXxx / custom names), read with
    default delegates off so XNNPACK's runtime DELEGATE nodes do not hide them."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    plain = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    plain.allocate_tensors()
    return sorted({op["op_name"] for op in plain._get_ops_details()})


def flex_ops(names: list[str]) -> list[str]:
    """Operators an Android app without the Select-TF-ops library could not run."""
    return [name for name in names if name.startswith("Flex") or name in ("CUSTOM", "DELEGATE")]


def constant_bytes(path) -> int:
    """Bytes of the constant tensors (weights, biases, filterbanks) in a .tflite file: its size without
    the graph, quantization parameters and metadata, the floor for any file of the same model."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    metadata = {m.buffer for m in model.metadata or []}
    return sum(len(b.data) for i, b in enumerate(model.buffers) if b.data is not None and i not in metadata)


def write_export(flatbuffer: bytes, out, info: AudioModelInfo) -> dict:
    """Write `out` with its metadata; fails (UsageError) on a non-.tflite name or a non-builtin op."""
    out = Path(out)
    if out.suffix != ".tflite":
        raise UsageError(f"--out {out}: the exported file must end in .tflite")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(populate(flatbuffer, info))
    ops = op_names(out)
    bad = flex_ops(ops)
    if bad:
        out.unlink()
        raise UsageError(f"{out}: conversion left non-builtin ops {bad}")
    return {"path": str(out), "bytes": out.stat().st_size, "ops": ops}


def parity(exported: Callable, reference: Callable, probe: np.ndarray, quantize: str) -> dict:
    """Max |exported - reference| score on `probe` windows; a float export must stay within PARITY_TOLERANCE."""
    diff = float(np.max(np.abs(exported(probe) - np.asarray(reference(probe)))))
    return {"max_abs_diff_vs_keras": diff, "parity_ok": quantize != "none" or diff <= PARITY_TOLERANCE}
