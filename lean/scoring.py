"""One way to score 1 s windows, whatever the model is: a Keras run folder / `.keras` file or a `.tflite` file.

A scorer maps (k, window samples) float32 windows to (k, classes) scores and knows its class names, so
evaluation, tagging and benchmarks treat the trained model and its TFLite exports alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asmr_tflite.model import TfliteModel
from audioprep.errors import UsageError
from audioprep.tables import read_lines

if TYPE_CHECKING:
    import keras

LABELS = "labels.txt"


def labels_path(model_path) -> Path:
    """Where a model's class names live: `labels.txt` in a run folder, else `<stem>.labels.txt` beside the file."""
    path = Path(model_path)
    if path.is_dir():
        return path / LABELS
    beside = path.with_name(f"{path.stem}.labels.txt")
    return beside if beside.exists() or path.suffix == ".tflite" else path.parent / LABELS


def write_labels(path, labels: list[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\n" for name in labels), encoding="utf-8")
    return path


def read_labels(model_path, classes: int) -> list[str]:
    """The class names stored beside a model; numbered names if there are none."""
    path = labels_path(model_path)
    if not path.exists():
        return [f"class_{i}" for i in range(classes)]
    names = read_lines(path)
    if len(names) != classes:
        raise UsageError(f"{path}: lists {len(names)} labels, the model has {classes} outputs")
    return names


class KerasScorer:
    """A Keras model scored in batches through one traced graph (eager LSTM loops would be slow)."""

    def __init__(self, model: keras.Model, labels: list[str] | None = None, batch_size: int = 64):
        import tensorflow as tf

        self.model, self.batch_size = model, batch_size
        self.classes = int(model.outputs[0].shape[-1])
        self.labels = labels or [f"class_{i}" for i in range(self.classes)]
        spec = tf.TensorSpec([None, model.inputs[0].shape[-1]], tf.float32)
        self._forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        windows = np.asarray(windows, np.float32)
        out = [self._forward(windows[i : i + self.batch_size]).numpy() for i in range(0, len(windows), self.batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.classes), np.float32)


class TfliteScorer(TfliteModel):
    """A LEAN `.tflite` export: labels from its metadata, else (older exports) from the labels file beside it."""

    def __init__(self, path, labels: list[str] | None = None, threads: int | None = None):
        super().__init__(path, threads)
        self.labels = labels or self.labels or read_labels(self.path, self.classes)


def load_scorer(path, threads: int | None = None):
    """A scorer for `--model`: a `.tflite` file (LiteRT only: TensorFlow is not imported), a `.keras` file,
    or a run folder."""
    path = Path(path)
    if path.suffix == ".tflite":
        return TfliteScorer(path, threads=threads)
    import lean.model  # noqa: F401 - registers LEAN's layers (front end, attention, hub YAMNet, SpecAugment) for loading
    from asmr_training.model_files import load_model, resolve_model

    model = load_model(path)
    file = resolve_model(path)
    classes = int(model.outputs[0].shape[-1])
    return KerasScorer(model, read_labels(path if path.is_dir() else file, classes))
