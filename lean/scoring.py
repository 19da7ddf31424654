"""One way to score 1 s windows, whatever the model is: a Keras run folder / `.keras` file or a `.tflite` file.

A scorer maps (k, window samples) float32 windows to (k, classes) scores and knows its class names, so
evaluation, tagging and benchmarks treat the trained model and its TFLite exports alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from asmr_tflite.model import TfliteModel
from asmr_training.run_dir import PARAMS
from asmr_training.run_record import read_classes
from audioprep.errors import UsageError
from audioprep.tables import read_lines

if TYPE_CHECKING:
    import keras

def labels_path(model_path) -> Path:
    """Where an older `.tflite` export's class names live: `<stem>.labels.txt` beside it (newer ones carry them)."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}.labels.txt")


def read_labels(model_path, classes: int) -> list[str]:
    """The class names stored with a model: its run folder's params.json `classes` (a `.keras` file's folder), or
    beside a `.tflite` file; numbered names if there are none."""
    path = Path(model_path)
    if path.suffix == ".tflite":
        source = labels_path(path)
        names = read_lines(source) if source.exists() else None
    else:
        folder = path if path.is_dir() else path.parent
        source, names = folder / PARAMS, read_classes(folder)
    if names is None:
        return [f"class_{i}" for i in range(classes)]
    if len(names) != classes:
        raise UsageError(f"{source}: lists {len(names)} labels, the model has {classes} outputs")
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
