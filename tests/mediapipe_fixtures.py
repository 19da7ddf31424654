"""MediaPipe Tasks' AudioClassifier (the engine Android apps run) on our exports, clip and stream mode, and the
LEAN float export that two test files share (conftest.py makes it a session fixture)."""

from __future__ import annotations

import numpy as np
import pytest

LEAN_LABELS = ["Knock", "Rain", "Speech"]


@pytest.fixture(scope="session")
def lean_float_export(tmp_path_factory):
    """(model, keras_file, report, exporter): an untrained LEAN (seed 0), saved, its float export alone in its
    folder, and the exporter that wrote it (already traced and converted to float, for the int8 test)."""
    import keras

    from lean.export import Exporter
    from lean.model import build_model

    keras.utils.set_random_seed(0)
    model = build_model("lean", len(LEAN_LABELS))
    folder = tmp_path_factory.mktemp("lean_float")
    (folder / "keras").mkdir()
    model.save(folder / "keras" / "lean.keras")
    exporter = Exporter(model, LEAN_LABELS)
    report = exporter.write(folder / "export" / "lean.tflite", "none")
    return model, folder / "keras" / "lean.keras", report, exporter


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
