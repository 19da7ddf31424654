"""Full-int8 calibration whose activation ranges a few unusual windows do not set.

TFLite's calibrator gives every activation the min and max it reached over all representative
windows, so the rarest window (for LEAN: near-silent ones, and the loudest) sets the 8-bit grid
every other window is quantized on; a LEAN on Google's YAMNet lost 0.134 mAP that way (mean
|int8 - Keras| clip score 0.048). Here each window's own min and max of every activation are
recorded, and the range kept is a quantile across windows: with 0.9 (the max that 90 % of windows
stay under; the others saturate) the same model lost 0.0055 (mean 0.008). docs/lean.md has the
measurements. Ranges that the quantile would make empty, and those of tensors named in `keep`, stay
the converter's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Int8Options:
    """How a full-int8 file is calibrated and quantized (defaults: the converter's own behaviour)."""

    range_quantile: float = 1.0  # per activation: this quantile over windows of each window's max (1 - it: of min)
    per_channel: bool = True  # weight scales per output channel; per tensor saves 24 bytes a channel
    # Mostly-zero float constants (a front end's mel filterbank: 97 % zeros, 65.8 KB -> 2.6 KB) stored in TFLite's
    # block-sparse format; the builtin sparse kernel reading it is slower than XNNPACK's dense one.
    sparse_constants: bool = False

    def __post_init__(self):
        if not 0.5 <= self.range_quantile <= 1.0:
            raise ValueError(f"range_quantile {self.range_quantile}: must lie in [0.5, 1]")


def window_ranges(calibrated: bytes, windows: np.ndarray) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(tensor indices, per-window min, per-window max) of every tensor that carries calibration statistics in
    `calibrated` (a calibrate-only conversion: a float model whose activations hold min and max)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(calibrated))
    tensors = model.subgraphs[0].tensors
    indices = [i for i, t in enumerate(tensors) if t.quantization is not None and t.quantization.min is not None]
    interpreter = Interpreter(model_content=calibrated, experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    low = np.zeros((len(windows), len(indices)), np.float32)
    high = np.zeros_like(low)
    for w, window in enumerate(windows):
        interpreter.set_tensor(source, np.asarray(window, np.float32)[None])
        interpreter.invoke()
        for k, index in enumerate(indices):
            values = interpreter.get_tensor(index)
            low[w, k], high[w, k] = values.min(), values.max()
    return indices, low, high


def quantile_ranges(calibrated: bytes, windows: np.ndarray, quantile: float, keep=()) -> bytes:
    """`calibrated` with each activation's range replaced by the `quantile` of its per-window maxima (and the
    1 - `quantile` of its minima) over `windows`, but for the tensors named in `keep` (the outputs of a float
    front end: the quantized model's input, where a silent window's log-mel floor must stay in range)."""
    from tensorflow.lite.tools import flatbuffer_utils

    indices, low, high = window_ranges(calibrated, windows)
    low, high = np.quantile(low, 1 - quantile, axis=0), np.quantile(high, quantile, axis=0)
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(calibrated))
    tensors = model.subgraphs[0].tensors
    keep = {name.encode() if isinstance(name, str) else name for name in keep}
    for index, lo, hi in zip(indices, low, high, strict=True):
        if hi > lo and tensors[index].name not in keep:
            tensors[index].quantization.min = np.array([lo], np.float32)
            tensors[index].quantization.max = np.array([hi], np.float32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
