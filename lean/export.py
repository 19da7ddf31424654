"""LEAN's TFLite export for phones: builtin ops only, one 1 s waveform in, class scores out, metadata in.

The trained model is rebuilt with unrolled LSTMs (the form the converter lowers to builtin ops
and full-int8 calibration accepts), its weights copied over, and converted by the shared
`asmr_tflite.export` (the log-mel front end stays float inside an int8 file), with the
labels and sample rate written into the file as TFLite Model Metadata, which MediaPipe's
AudioClassifier needs (its description also says when the run trained on the generated corpus). How an int8
file is made (calibration, weight scales, the layers kept float) is the variant's `Int8Plan` (`int8_plan`),
which the report records. A float export's scores are compared with the Keras model's (`parity_ok`:
within 1e-5; XNNPACK and oneDNN round differently, so a trained model with large activations can
drift a little past it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

from asmr_tflite.calibration import Int8Options
from asmr_tflite.export import Conversion, parity, write_export
from asmr_tflite.metadata import AudioModelInfo
from audioprep.errors import UsageError
from lean.model import HEAD, build_model, is_multi_label
from lean.params import LeanParams
from lean.run_data import GENERATED_NOTE
from lean.scoring import TfliteScorer
from lean.yamnet import FRONT_END


@dataclass(frozen=True)
class Int8Plan:
    """How one variant's full-int8 file is made: calibration and weight scales, and the name scopes whose
    operators stay float (the front end always: see asmr_tflite.export)."""

    options: Int8Options
    float_scopes: tuple[str, ...]


# Measured on two LEANs on Google's YAMNet (generated corpus; docs/lean.md): ranges at the 0.9 quantile of
# windows took the mAP drop from 0.134 and 0.055 to 0.004 and -0.003; weight scales per tensor instead of per
# channel save 0.35 MB (YAMNet's 10,944 channels, LSTM and dense units) for at most 0.007 of drop (Google's own
# YAMNet file is per-tensor int8); the sparse mel filterbank saves 63 KB, which brings the file (24 classes)
# under 4.5 MiB, for about 1.8 ms more per window on a loaded 2-core CPU.
INT8 = Int8Plan(Int8Options(range_quantile=0.9, per_channel=False, sparse_constants=True), (FRONT_END,))
# yamnet_frozen's head is a logistic regression solved on standardised embeddings (lean.logistic). Before its
# spread floor, near-constant embedding dimensions got weights in the hundreds (quick FSD50K probe: |kernel| max
# 641, median 0.088) and LEAN's plan lost 0.3117 mAP (0.5149 -> 0.2032). With the floor (0.3 of the median
# spread), the same run: Keras 0.5220, LEAN's plan 0.5101 (-0.0119, 3.29 MB), this plan (the head and the
# embedding's average pool float) 0.5136 (-0.0084, 3.35 MB): within the 0.01 goal (docs/lean.md).
PROBE_INT8 = Int8Plan(INT8.options, (FRONT_END, "embeddings", HEAD))


def int8_plan(variant: str) -> Int8Plan:
    """The int8 plan of a model built as `variant` (its Keras name)."""
    return PROBE_INT8 if variant == "yamnet_frozen" else INT8


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
    twin = build_model(model.name, model.get_layer(HEAD).units, params, unroll=True, multi_label=is_multi_label(model))
    twin.set_weights(model.get_weights())
    return twin


def calibration_windows(clips: list[np.ndarray], params: LeanParams = LeanParams(), count: int = 200) -> np.ndarray:
    """The int8 calibration set: the first 1 s patch of `count` training clips drawn with the params' seed."""
    from lean.data import clip_patches

    order = np.random.default_rng(params.seed).permutation(len(clips))[:count]
    return np.stack([clip_patches(clips[i], params, 1)[0] for i in order])


class Exporter:
    """A trained model's TFLite twin, traced once, written as any number of files (float, dynamic, int8)."""

    def __init__(self, model: keras.Model, labels: list[str], params: LeanParams = LeanParams(),
                 generated: bool = False):
        self.twin = export_model(model, params)
        self.forward = lambda wave: self.twin(wave, training=False)
        self.conversion = Conversion(self.forward, params.patch_samples)
        self.name, self.labels, self.params, self.generated = model.name, tuple(labels), params, generated

    def write(self, out, quantize: str = "none", representative: np.ndarray | None = None) -> dict:
        """Write `out` (.tflite, labels and rate in its metadata); check builtin-only ops and, for float, parity with Keras."""
        params, multi = self.params, is_multi_label(self.twin)
        plan = int8_plan(self.name)
        flatbuffer = self.conversion.convert(quantize, representative, float_scope=plan.float_scopes, int8=plan.options)
        info = AudioModelInfo(
            name=f"LEAN {self.name}", labels=self.labels, sample_rate=params.sample_rate,
            description=f"LEAN audio tagger (YAMNet front end, Bi-LSTM and attention head): {params.patch_seconds:g} s "
                        f"windows at {params.sample_rate} Hz, "
                        f"{'one sigmoid score per label' if multi else 'a softmax over the labels'}; export {quantize}"
                        + (f"; {GENERATED_NOTE}" if self.generated else ""),
        )
        report = {**write_export(flatbuffer, out, info), "quantize": quantize}
        if quantize == "int8":
            report["int8"] = {**asdict(plan.options), "float_scopes": list(plan.float_scopes)}
        if representative is not None and len(representative):
            probe = np.asarray(representative[:4], np.float32)  # in the calibrated range
        else:
            probe = np.random.default_rng(params.seed).uniform(-0.5, 0.5, (4, params.patch_samples)).astype(np.float32)
        return {**report, **parity(TfliteScorer(out), self.forward, probe, quantize)}


def export_tflite(
    model: keras.Model,
    out,
    labels: list[str],
    quantize: str = "none",
    representative: np.ndarray | None = None,
    params: LeanParams = LeanParams(),
    generated: bool = False,
) -> dict:
    """One file of `model` (see `Exporter.write`); `generated`: its run trained on the generated corpus, which
    the file's metadata then says (lean.run_data.GENERATED_NOTE)."""
    return Exporter(model, labels, params, generated).write(out, quantize, representative)
