"""TFLite Model Metadata: written into an export, read back, displayed; internal names stripped, I/O names kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asmr_tflite.export import convert, write_export
from asmr_tflite.metadata import MIN_PARSER_VERSION, AudioModelInfo, describe, main, read_info
from asmr_tflite.model import TfliteModel
from audioprep.errors import BadFileError

INFO = AudioModelInfo(name="tiny", description="a test model", labels=("low", "mid", "high"), sample_rate=8000)
SAMPLES = 400


def _forward(wave):
    import tensorflow as tf

    weights = tf.constant(np.random.default_rng(0).normal(size=(SAMPLES, 3)).astype(np.float32))
    return tf.nn.softmax(tf.nn.relu(tf.matmul(wave, weights)) + 0.1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("meta") / "tiny.tflite"
    return path, write_export(convert(_forward, SAMPLES), path, INFO)


def test_metadata_round_trips_and_labels_are_packed_in_the_file(exported):
    path, report = exported
    assert read_info(path) == INFO
    assert list(path.parent.iterdir()) == [path]  # nothing beside the file
    model = TfliteModel(path)
    assert (model.labels, model.sample_rate, model.window, model.classes) == (["low", "mid", "high"], 8000, SAMPLES, 3)
    x = np.random.default_rng(1).uniform(-1, 1, (2, SAMPLES)).astype(np.float32)
    np.testing.assert_allclose(model(x), np.asarray(_forward(x)), atol=1e-5)
    assert report["bytes"] == path.stat().st_size and "SOFTMAX" in report["ops"]


def test_only_the_input_and_output_keep_their_names(exported):
    from ai_edge_litert.interpreter import Interpreter

    names = [t["name"] for t in Interpreter(model_path=str(exported[0])).get_tensor_details()]
    assert sorted(n for n in names if n) == ["scores", "waveform"]
    assert len(names) > 2


def test_describe_shows_audio_properties_labels_file_and_parser_version(exported, capsys):
    shown = describe(exported[0])
    meta = shown["metadata"]
    assert (meta["name"], meta["author"], meta["license"], meta["minParserVersion"]) == (
        "tiny", "asmr-toolkit", "Apache-2.0", MIN_PARSER_VERSION)
    (subgraph,) = meta["subgraphMetadata"]
    content = subgraph["inputTensorMetadata"][0]["content"]
    assert content["contentPropertiesType"] == "AudioProperties"
    assert content["contentProperties"] == {"sampleRate": 8000, "channels": 1}
    (labels,) = subgraph["outputTensorMetadata"][0]["associatedFiles"]
    assert (labels["name"], labels["type"]) == ("labels.txt", "TENSOR_AXIS_LABELS")
    assert shown["packed_files"] == {"labels.txt": ["low", "mid", "high"]}
    assert main([str(exported[0])]) == 0
    assert json.loads(capsys.readouterr().out)["packed_files"] == shown["packed_files"]


def test_a_file_without_metadata_is_named_in_one_line(tmp_path, capsys):
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(convert(_forward, SAMPLES))
    assert read_info(bare) is None
    with pytest.raises(BadFileError, match="no TFLite Model Metadata"):
        describe(bare)
    assert main([str(bare)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bare}: no TFLite Model Metadata")


def test_label_count_must_match_the_outputs(tmp_path):
    wrong = AudioModelInfo(name="tiny", description="", labels=("a", "b"), sample_rate=8000)
    with pytest.raises(ValueError, match="2 labels for 3 outputs"):
        write_export(convert(_forward, SAMPLES), tmp_path / "wrong.tflite", wrong)


def test_mediapipe_loads_the_file_with_its_labels(exported):
    from mediapipe_fixtures import clip_results

    path, _ = exported
    audio = np.random.default_rng(2).uniform(-1, 1, 3 * SAMPLES).astype(np.float32)
    ours = TfliteModel(path)(audio.reshape(3, SAMPLES))
    got = clip_results(path, audio, 8000)
    assert [t for t, _, _ in got] == [0, 50, 100]
    assert [label for _, label, _ in got] == [INFO.labels[i] for i in ours.argmax(axis=1)]
    np.testing.assert_allclose([s for _, _, s in got], ours.max(axis=1), atol=1e-5)
