"""Hyper-parameters of every classifier, one frozen dataclass, defaulting to the papers' values.

Lin 2024 fixes the Conv1D widths (Figure 5) and 150 epochs; the thesis does not name the
optimizer, dropout rate or batch size, so those are Keras-tutorial defaults (Adam 1e-3, 0.3, 32).
DeepASMR (Moon 2020) gives only the architecture families and, for (f), ELU + tanh activations,
RMSprop and a Talos sweep; its training took 30 epochs (30 min at ~60 s per epoch).
`DEEPASMR_SWEPT` holds the best row of our own sweep, reproducible with

    python -m asmr_classify sweep --model deepasmr --params asmr_classify/sweep_default.yaml

on the generated default `deepasmr` corpus (seed 0): 10 of the grid's 64 points, 5 epochs each on
up to 16 slices per recording; best val_accuracy 0.556 (ELU / tanh / RMSprop, as the thesis chose).
The full results table is in README.md (asmr_classify section).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class ClassifierParams:
    """One classifier's architecture and training settings.

    `filters`, `kernel_size` and `dense_units` shape the DeepASMR models; `lin_conv1d` keeps
    Figure 5's fixed widths (256/256/128/64, kernel 5, dense 1024) and uses only the rest.
    `patience` > 0 turns on early stopping on the validation loss.
    """

    filters: int = 32
    kernel_size: int = 3
    dense_units: int = 64
    dropout: float = 0.3
    activation: str = "relu"
    dense_activation: str = "relu"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 32
    epochs: int = 30
    patience: int = 0


# Fields `models.build` consumes; the rest (batch_size, epochs, patience) belong to training.
MODEL_FIELDS = ("filters", "kernel_size", "dense_units", "dropout", "activation", "dense_activation",
                "optimizer", "learning_rate")

# DeepASMR (f): (e) with ELU/tanh and RMSprop; the values below are the best row of the sweep above.
DEEPASMR_SWEPT = dict(
    activation="elu",
    dense_activation="tanh",
    filters=32,
    kernel_size=3,
    dropout=0.4,
    optimizer="rmsprop",
    learning_rate=1e-3,
    batch_size=32,
)

DEFAULTS: dict[str, ClassifierParams] = {
    "lin_conv1d": ClassifierParams(epochs=150),
    "dense_audio": ClassifierParams(),
    "cnn2d": ClassifierParams(),
    "cnn2d_x4": ClassifierParams(),
    "cnn1d": ClassifierParams(),
    "cnn1d_x4": ClassifierParams(),
    "deepasmr": ClassifierParams(**DEEPASMR_SWEPT),
}


@dataclass(frozen=True)
class YamnetHeadParams:
    """The YAMNet transfer family (asmr_classify.yamnet_head): Google's YAMNet, frozen, embeds each 0.975 s
    window (`hop_seconds` apart) of a recording as 1024 numbers, and a head learns the classes from them.

    The head is a softmax Dense layer under an L2 penalty `l2` / 2 * |W|^2 on the mean cross-entropy, fitted by
    L-BFGS until converged (at most `epochs` iterations: each is a pass over the training embeddings).
    `hidden_units` > 0 puts a ReLU layer of that width (and `dropout`) before it; that head trains with Adam
    at `learning_rate` in batches of `batch_size` for at most `epochs` epochs, stopped when the validation
    loss has not improved for `patience` epochs, the best epoch's weights kept (`patience` 0: every epoch run,
    the last kept). docs/asmr_classify.md has the measurements behind these values.
    """

    hidden_units: int = 0
    l2: float = 0.01
    epochs: int = 1000
    dropout: float = 0.3
    learning_rate: float = 1e-3
    batch_size: int = 64
    patience: int = 30
    hop_seconds: float = 0.48


YAMNET_HEAD = YamnetHeadParams()


@dataclass(frozen=True)
class PredictParams:
    """How `predict` windows a file: consecutive windows overlap by `overlap` (0.5: every moment is
    heard by two windows, a steadier timeline at twice the model calls)."""

    overlap: float = 0.5


@dataclass(frozen=True)
class CatalogParams:
    """What `catalog` and the app's uploads use unless told otherwise.

    `overlap` 0: back-to-back windows, half `predict`'s model calls for a folder of long recordings.
    `threshold`: windows whose top probability is under it are left out of the segments (0: none).
    `workers`: files classified at once in worker processes. `busy_seconds`: how long a writer waits
    for another to finish its recording's transaction.
    """

    overlap: float = 0.0
    threshold: float = 0.0
    workers: int = 1
    busy_seconds: float = 60.0


@dataclass(frozen=True)
class DetectorParams:
    """The ASMR / speech detector `predict` uses without --model (asmr_classify.speech_detector).

    A window's speech probability is YAMNet's AudioSet `Speech` score, scaled down linearly by its
    `Whispering` score (to 0 at `whisper_full`) and capped at `unvoiced_cap` when under `voiced_min` of
    its sounding frames are voiced (a cepstral peak of at least `voiced_prominence` at a pitch in
    `pitch_hz`): YAMNet hears speech in a whisper, a voice that never sounds is no ordinary speech.
    The window is `speech` when that probability is >= `speech_at`, `asmr` when it is <= 1 - `speech_at`,
    else `unsure`. Frames are `frame_seconds` long, half-overlapping; a frame sounds when it is within
    `sounding_db` of the window's loudest. docs/asmr_classify.md has what each value was checked on.
    """

    speech_at: float = 0.8
    whisper_full: float = 0.2
    voiced_min: float = 0.1
    voiced_prominence: float = 0.15
    unvoiced_cap: float = 0.5
    pitch_hz: tuple[float, float] = (60.0, 400.0)
    frame_seconds: float = 0.04
    sounding_db: float = 30.0


PREDICT = PredictParams()
CATALOG = CatalogParams()
DETECTOR = DetectorParams()


def params_for(name: str, **overrides) -> ClassifierParams:
    """The model's defaults with `overrides` applied (unknown keys raise a one-line error)."""
    from audioprep.errors import UsageError

    if name not in DEFAULTS:
        raise UsageError(f"--model {name}: unknown model (choose from {', '.join(DEFAULTS)})")
    fields = {f.name for f in dataclasses.fields(ClassifierParams)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise UsageError(f"{name}: unknown hyper-parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(fields))})")
    return dataclasses.replace(DEFAULTS[name], **{k: v for k, v in overrides.items() if v is not None})


def model_kwargs(params: ClassifierParams) -> dict:
    """The subset of `params` that `models.build` takes."""
    return {k: getattr(params, k) for k in MODEL_FIELDS}
