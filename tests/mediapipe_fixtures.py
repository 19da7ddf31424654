"""MediaPipe Tasks' AudioClassifier (the engine Android apps run) on our exports, clip and stream mode, and the
LEAN exports that two test files share (conftest.py makes `lean_float_export` a session fixture)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pytest
from shared_build import shared_build

CALIBRATION_WINDOWS = 64  # the int8 export's calibration set: enough for the 0.9 range quantile, quick to run


def fit_head(model, clips, labels, params, patches_per_clip: int = 2) -> None:
    """Set LEAN's sigmoid head to a ridge regression of the clips' labels on the model's joint embedding of their
    first patches (a closed-form stand-in for training: its scores rank the classes the way a trained head does)."""
    import keras

    from lean.data import clip_patches

    patches = [clip_patches(clip, params, patches_per_clip) for clip in clips]
    x = np.concatenate(patches)
    y = np.concatenate([np.repeat(label[None], len(p), 0) for label, p in zip(labels, patches, strict=True)])
    joint = keras.Model(model.input, model.get_layer("joint_embedding").output)
    features = np.asarray(joint(x), np.float64)
    mean = features.mean(0)
    centred = features - mean
    ridge = 1e-2 * len(x) * np.eye(features.shape[1])
    weights = np.linalg.solve(centred.T @ centred + ridge, centred.T @ (y - y.mean(0)))
    bias = y.mean(0) - mean @ weights
    model.get_layer("classifier").set_weights([8 * weights, 8 * (bias - 0.5)])  # logits about -4..4


@dataclass
class LeanExports:
    """A LEAN on Google's YAMNet (the bundled weights) with a fitted head (`fit_head`) on the small generated
    FSD50K corpus, saved as .keras and its float export alone in its folder, both written once per pytest run
    (`shared_build`); `model` is this worker's load of the .keras file; `int8()` writes the int8 export once."""

    model: object
    keras_file: Path
    float_report: dict
    data: object
    tmp_path_factory: object = field(repr=False)

    @cached_property
    def exporter(self):
        from lean.export import Exporter
        from lean.params import LeanParams

        return Exporter(self.model, self.data.vocabulary, LeanParams())

    def int8(self) -> dict:
        """The int8 export's report, written on the first call of the run (calibrated on training windows)."""
        from lean.export import calibration_windows

        def write(folder: Path) -> dict:
            windows = calibration_windows(self.data.splits["train"].clips, self.exporter.params, CALIBRATION_WINDOWS)
            return self.exporter.write(folder / "lean_int8.tflite", "int8", windows)

        return shared_build(self.tmp_path_factory, "lean_int8", write)


def _fit_and_export(folder: Path, data) -> dict:
    """LEAN with a fitted head saved as `folder/keras/lean.keras`; its float export's report."""
    import keras

    from lean.export import Exporter
    from lean.model import build_model
    from lean.params import LeanParams
    from lean.yamnet import yamnet_embedder

    params = LeanParams()
    keras.utils.set_random_seed(0)
    model = build_model("lean", len(data.vocabulary), params, embedder=yamnet_embedder(None, params))
    train = data.splits["train"]
    fit_head(model, train.clips, train.labels, params)
    (folder / "keras").mkdir()
    model.save(folder / "keras" / "lean.keras")
    return Exporter(model, data.vocabulary, params).write(folder / "export" / "lean.tflite", "none")


@pytest.fixture(scope="session")
def lean_float_export(tmp_path_factory, small_layout) -> LeanExports:
    import lean.model  # noqa: F401 - registers LEAN's layers, which a worker that did not build has not imported
    from asmr_training.model_files import load_model
    from lean.data import load_data
    from lean.params import LeanParams

    data = load_data(small_layout("fsd50k"), LeanParams(), splits=("train", "eval"), progress=False)
    report = shared_build(tmp_path_factory, "lean_exports", lambda folder: _fit_and_export(folder, data))
    keras_file = Path(report["path"]).parent.parent / "keras" / "lean.keras"
    return LeanExports(load_model(keras_file), keras_file, report, data, tmp_path_factory)


def _options(model_path, mode, **extra):
    from mediapipe.tasks.python import audio
    from mediapipe.tasks.python.core.base_options import BaseOptions

    return audio.AudioClassifierOptions(base_options=BaseOptions(model_asset_path=str(model_path)), max_results=1,
                                        running_mode=mode, **extra)


def _top(result) -> tuple[int, str, float]:
    best = result.classifications[0].categories[0]
    return result.timestamp_ms, best.category_name, best.score


def clip_results(model_path, audio: np.ndarray, sample_rate: int) -> list[tuple[int, str, float]]:
    """(timestamp_ms, top label, score) per window of `audio` ((n,) mono or (n, channels))."""
    from mediapipe.tasks.python import audio as mp_audio
    from mediapipe.tasks.python.components.containers.audio_data import AudioData

    options = _options(model_path, mp_audio.RunningMode.AUDIO_CLIPS)
    with mp_audio.AudioClassifier.create_from_options(options) as classifier:
        return [_top(r) for r in classifier.classify(AudioData.create_from_array(audio, sample_rate))]


def stream_results(model_path, audio: np.ndarray, sample_rate: int, block_ms: int = 100) -> list[tuple[int, str, float]]:
    """The same, fed to `classify_async` in `block_ms` blocks as a microphone would; one entry per callback."""
    from mediapipe.tasks.python import audio as mp_audio
    from mediapipe.tasks.python.components.containers.audio_data import AudioData

    results = []
    options = _options(model_path, mp_audio.RunningMode.AUDIO_STREAM,
                       result_callback=lambda result, timestamp_ms: results.append(_top(result)))
    block = sample_rate * block_ms // 1000
    with mp_audio.AudioClassifier.create_from_options(options) as classifier:
        for i, start in enumerate(range(0, len(audio) - block + 1, block)):
            classifier.classify_async(AudioData.create_from_array(audio[start:start + block], sample_rate), i * block_ms)
    return results


def op_input_types(path) -> dict:
    """{operator name: dtype of its first input} of an exported file (which part of an int8 export stays float)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    plain = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    dtypes = {t["index"]: t["dtype"] for t in plain.get_tensor_details()}
    return {op["op_name"]: dtypes[op["inputs"][0]] for op in plain._get_ops_details()}
