"""An exported .tflite audio classifier on the LiteRT interpreter, one window per invoke (the phone's way).

Its class names and sample rate come from the file's metadata (`asmr_tflite.metadata`), so
`lean tag` and `asmr_classify predict` read an export exactly as an Android app does. TensorFlow
is not imported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asmr_tflite.metadata import read_info
from audioprep.errors import BadFileError


class TfliteModel:
    """(k, window) float32 windows -> (k, classes) scores; `labels`, `sample_rate` and `window` from the file."""

    def __init__(self, path, threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise BadFileError(path, "no such TFLite model")
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        except (ValueError, RuntimeError) as err:
            raise BadFileError(path, f"not a loadable TFLite model ({err})") from err
        self.info = read_info(self.path)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.window = int(self.input["shape"][-1])
        self.classes = int(self.output["shape"][-1])
        self.labels = list(self.info.labels) if self.info else None
        self.sample_rate = self.info.sample_rate if self.info else None

    @property
    def output_shape(self) -> tuple:
        return (None, self.classes)

    def score_one(self, window: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self.input["index"], np.asarray(window, np.float32).reshape(self.input["shape"]))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])[0].copy()

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        out = [self.score_one(w) for w in windows]
        return np.stack(out) if out else np.zeros((0, self.classes), np.float32)

    def predict_on_batch(self, windows: np.ndarray) -> np.ndarray:
        """Keras's name for a batch call, so a classifier's consumers take either model."""
        return self(windows)

    def predict(self, windows: np.ndarray, batch_size: int | None = None, verbose: int = 0) -> np.ndarray:
        return self(windows)

    def op_names(self) -> list[str]:
        from asmr_tflite.export import op_names

        return op_names(self.path)
