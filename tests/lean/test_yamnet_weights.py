"""The bundled lite YAMNet in the native Keras YAMNet: its weights are the interpreter's, its outputs agree with
the interpreter's, it passes YAMNet's own installation test, it survives an .h5 round trip with its folded batch
norms frozen for fine-tuning, and every other `--yamnet` value is decided or refused in one line. The tag pass's
batched YAMNet (asmr_audioset.tag_net) is that native network, rebuilt by its script, and passes the same test."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from asmr_audioset.lite_yamnet import YAMNET_TFLITE, class_names
from asmr_audioset.tag_net import TagNet
from audioprep.errors import UsageError
from lean.build_tag_net import build as build_tag_net
from lean.model import build_model
from lean.yamnet import embedding_model, yamnet, yamnet_embedder
from lean.yamnet_weights import (
    CONVOLUTIONS,
    STANDIN,
    folded_batch_norms,
    hub_cache_dir,
    load_yamnet_h5,
    load_yamnet_tflite,
    save_yamnet_h5,
    weights_source,
)

RATE = 16000
WINDOW, HOP = 15600, 7680  # the lite model's 0.975 s input; YAMNet's 0.48 s patch hop
EMBEDDING = "yamnet_frames/global_average_pooling2d/Mean"
pytestmark = pytest.mark.filterwarnings("ignore:Warning. Enabling .experimental_preserve_all_tensors.:UserWarning")


@pytest.fixture(scope="module")
def imported() -> keras.Model:
    return load_yamnet_tflite(yamnet(), YAMNET_TFLITE)


def _interpreter(**kwargs) -> Interpreter:
    interpreter = Interpreter(model_path=str(YAMNET_TFLITE), experimental_preserve_all_tensors=True, **kwargs)
    interpreter.allocate_tensors()
    return interpreter


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def _clips() -> np.ndarray:
    """Twelve 0.975 s test sounds: tones, a chirp, clicks, a square wave and noises of several colours."""
    rng = np.random.default_rng(0)
    t = np.arange(WINDOW) / RATE
    clicks = np.zeros(WINDOW)
    clicks[::1600] = 1.0
    brown = np.cumsum(rng.normal(size=WINDOW))
    clips = [
        *(0.5 * np.sin(2 * np.pi * f * t) for f in (220, 440, 1000, 3000)),
        rng.uniform(-1, 1, WINDOW),
        np.zeros(WINDOW),
        0.1 * rng.normal(size=WINDOW),
        clicks,
        0.5 * np.sin(2 * np.pi * (200 * t + 3000 * t**2)),
        rng.uniform(-1, 1, WINDOW) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)),
        0.3 * np.sign(np.sin(2 * np.pi * 300 * t)),
        0.9 * (brown - brown.mean()) / np.abs(brown - brown.mean()).max(),
    ]
    return np.stack(clips).astype(np.float32)


@pytest.fixture(scope="module")
def interpreted() -> dict[str, np.ndarray]:
    """The interpreter's log-mel, embeddings and scores for `_clips()`, run as users run it (XNNPACK on)."""
    interpreter = _interpreter()
    outputs = {o["name"]: o["index"] for o in interpreter.get_output_details()}
    embedding = next(t["index"] for t in interpreter.get_tensor_details() if t["name"] == EMBEDDING)
    found = {"clips": _clips(), "log_mel": [], "embeddings": [], "scores": []}
    for clip in found["clips"]:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], clip[None])
        interpreter.invoke()
        found["log_mel"].append(interpreter.get_tensor(outputs["Identity_1"]))
        found["embeddings"].append(interpreter.get_tensor(embedding)[0])
        found["scores"].append(interpreter.get_tensor(outputs["Identity"])[0])
    return {name: np.stack(values) for name, values in found.items()}


def _tflite_layout(op: str, kernel: np.ndarray) -> np.ndarray:
    """A Keras kernel back in TFLite's layout (the inverse of the loader's transposes)."""
    if op == "CONV_2D":
        return kernel.transpose(3, 0, 1, 2)
    if op == "DEPTHWISE_CONV_2D":
        return kernel.reshape(1, *kernel.shape[:2], -1)
    return kernel.T


def test_every_imported_weight_is_the_interpreters_own_tensor(imported):
    """Kernels behind a DEQUANTIZE equal the interpreter's dequantized output (read with XNNPACK off: with it
    they read back as zeros); int8 kernels the interpreter feeds its hybrid kernels equal int8 x scale."""
    interpreter = _interpreter(experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.invoke()  # computes the DEQUANTIZE outputs
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()
    dequantized = {op["outputs"][0] for op in ops if op["op_name"] == "DEQUANTIZE"}
    first = next(i for i, op in enumerate(ops) if op["op_name"] in CONVOLUTIONS)
    weighted = [op for op in ops[first:] if op["op_name"] in (*CONVOLUTIONS, "FULLY_CONNECTED")]
    convs = [layer for layer in imported.layers if isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D)]
    assert len(weighted) == len(convs) + 1 == 28
    forms = []
    for op, layer in zip(weighted, [*convs, imported.get_layer("logits")], strict=True):
        weights, bias = op["inputs"][1:3]
        tensor = interpreter.get_tensor(weights)
        if weights in dequantized:
            forms.append("dequantized")
        elif tensor.dtype == np.int8:
            forms.append("int8")
            tensor = tensor * details[weights]["quantization_parameters"]["scales"]
        else:
            forms.append("float")
        np.testing.assert_allclose(_tflite_layout(op["op_name"], layer.kernel.numpy()), tensor, rtol=1e-6, atol=0)
        if layer.name == "logits":
            np.testing.assert_array_equal(layer.bias.numpy(), interpreter.get_tensor(bias))
        else:
            beta, mean, variance = imported.get_layer(f"{layer.name}_bn").get_weights()
            np.testing.assert_array_equal(beta, interpreter.get_tensor(bias))
            assert not mean.any() and np.all(variance == np.float32(1 - 1e-4))
    assert (forms.count("float"), forms.count("dequantized"), forms.count("int8")) == (3, 11, 14)
    assert len(folded_batch_norms(imported)) == 27


def test_conv_stack_on_the_interpreters_log_mel_gives_its_embeddings(imported, interpreted):
    # Measured (Keras 3.15, ai-edge-litert 2.3, AMD EPYC): cosine 0.99919-0.99990 (median 0.99975) over the
    # twelve clips, scores within 0.028, every top-1 the same. The gap is the interpreter's int8 arithmetic on
    # activations (XNNPACK's per-row quantization; the builtin kernels' per-tensor one drifts further).
    stack = keras.Model(imported.get_layer("patch_image").input, imported.outputs)
    scores, embeddings = (np.asarray(t) for t in stack(interpreted["log_mel"]))
    cosine = _cosine(embeddings, interpreted["embeddings"])
    assert cosine.min() >= 0.998 and np.median(cosine) >= 0.9995, cosine
    assert np.abs(scores - interpreted["scores"]).max() < 0.1
    assert (scores.argmax(axis=1) == interpreted["scores"].argmax(axis=1)).sum() >= len(scores) - 1  # a near tie may flip


def test_whole_model_agrees_with_the_interpreter_on_top_1(imported, interpreted):
    """With the project's float log-mel in front (the lite model's own is int8): 11 of the 12 clips measured."""
    padded = np.pad(interpreted["clips"], ((0, 0), (0, 16000 - WINDOW)))  # 96 frames read only the first 15600
    scores = np.asarray(imported(padded)[0])
    agree = scores.argmax(axis=1) == interpreted["scores"].argmax(axis=1)
    assert agree.sum() >= 9, [class_names()[i] for i in scores.argmax(axis=1)]


def _installation_clip(name: str) -> np.ndarray:
    t = np.arange(3 * RATE) / RATE
    return {
        "Silence": np.zeros(3 * RATE),
        "White noise": np.random.RandomState(51773).uniform(-1.0, 1.0, 3 * RATE),
        "Sine wave": np.sin(2 * np.pi * 440 * t),
    }[name].astype(np.float32)


@pytest.mark.parametrize("expected", ["Silence", "White noise", "Sine wave"])
def test_yamnets_installation_test(imported, expected):
    """YAMNet's own check (tensorflow/models yamnet_test.py): 3 s of zeros, uniform noise from seed 51773 and a
    440 Hz sine each have their class among the top 10 of the mean scores over 0.975 s patches 0.48 s apart.
    Measured ranks: 1, 1 and 6."""
    windows = np.lib.stride_tricks.sliding_window_view(_installation_clip(expected), 16000)[::HOP]
    scores = np.asarray(imported(windows)[0]).mean(axis=0)
    top = [class_names()[i] for i in np.argsort(scores)[::-1][:10]]
    assert expected in top, top


@pytest.mark.parametrize("expected", ["Silence", "White noise", "Sine wave"])
def test_the_tag_pass_passes_yamnets_installation_test(expected):
    """The batched tag-pass network with its numpy front end, on the same check. Measured ranks: 1, 1 and 6."""
    windows = np.lib.stride_tricks.sliding_window_view(_installation_clip(expected), WINDOW)[::HOP]
    top = [class_names()[i] for i in np.argsort(TagNet()(windows).mean(axis=0))[::-1][:10]]
    assert expected in top, top


def test_the_tag_pass_is_the_native_network_with_float16_weights(imported):
    """Same weights, same float front end: scores within 0.02 of the Keras YAMNet's (measured: 0.0096 on 403
    windows of the generated ESC-50 stand-in, the float16 rounding of the weights; 1.2e-4 with float32 weights), every
    top-1 the same; a window's scores do not depend on the batch it is padded into."""
    clips = np.concatenate([_clips(), np.stack([_installation_clip(n)[:WINDOW] for n in ("White noise", "Sine wave")])])
    scores = TagNet()(clips)
    expected = np.asarray(imported(np.pad(clips, ((0, 0), (0, 16000 - WINDOW))))[0])
    assert scores.shape == (14, 521) and scores.dtype == np.float32
    assert np.abs(scores - expected).max() < 0.02
    assert (scores.argmax(axis=1) == expected.argmax(axis=1)).all()
    one_by_one = np.concatenate([TagNet()(clip[None]) for clip in clips])  # the same here to the bit
    np.testing.assert_allclose(one_by_one, scores, rtol=0, atol=1e-5)  # room for another CPU's kernels


def test_the_tag_pass_asset_is_what_its_script_builds(tmp_path):
    """assets/yamnet_tags.tflite is `python -m lean.build_tag_net`'s output from the bundled model: here the
    same bytes; the tolerance leaves room for another CPU's rounding where the converter folds constants."""
    rebuilt = build_tag_net(tmp_path / "tags.tflite")
    clips = _clips()
    np.testing.assert_allclose(TagNet(rebuilt)(clips), TagNet()(clips), rtol=0, atol=1e-4)


def test_h5_round_trip_keeps_the_weights_and_fine_tuning_keeps_folded_batch_norms_frozen(imported, tmp_path):
    path = save_yamnet_h5(imported, tmp_path / "yamnet.h5")
    fresh = load_yamnet_h5(yamnet(), path)
    for a, b in zip(imported.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    model = build_model("yamnet_finetune", 3, embedder=embedding_model(fresh))
    norms = folded_batch_norms(model)
    assert len(norms) == 27 and not any(norm.trainable for norm in norms)
    trainable = {id(w) for w in model.trainable_weights}
    assert id(fresh.get_layer("layer14_pointwise_conv").kernel) in trainable
    assert not trainable & {id(w) for norm in norms for w in norm.weights}


def test_weights_source_decides_each_form(tmp_path):
    h5 = tmp_path / "yamnet.h5"
    h5.touch()
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "saved_model.pb").touch()
    decided = {
        None: ("tflite", str(YAMNET_TFLITE)),
        STANDIN: (STANDIN, None),
        str(h5): ("h5", str(h5)),
        str(tmp_path / "saved"): ("savedmodel", str(tmp_path / "saved")),
        "https://tfhub.dev/google/yamnet/1": ("hub", "https://tfhub.dev/google/yamnet/1"),
    }
    for value, (form, location) in decided.items():
        source = weights_source(value)
        assert (source.form, source.location) == (form, location)
        assert source.native == (form in ("tflite", "h5", STANDIN))


def test_hub_downloads_go_to_a_lasting_cache_unless_one_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("TFHUB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert hub_cache_dir() == tmp_path / "asmr-toolkit" / "tfhub"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "mine"))
    assert hub_cache_dir() == tmp_path / "mine"


def test_default_embedder_is_the_bundled_yamnet_and_standin_is_not(imported):
    x = _installation_clip("Sine wave")[None, :16000]
    expected = np.asarray(imported(x)[1])
    np.testing.assert_allclose(np.asarray(yamnet_embedder(None)(x)), expected, rtol=1e-5, atol=1e-6)
    assert _cosine(np.asarray(yamnet_embedder(STANDIN)(x)), expected)[0] < 0.99


def _not_yamnet_tflite(path) -> None:
    """A valid lite model with one convolution and one dense layer."""

    @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 1], tf.float32)])
    def forward(x):
        y = tf.nn.relu(tf.nn.conv2d(x, tf.ones([3, 3, 1, 4]), 1, "SAME") + tf.ones([4]))
        return tf.reduce_mean(y, [1, 2]) @ tf.ones([4, 2]) + tf.ones([2])

    path.write_bytes(tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], forward).convert())


@pytest.mark.parametrize("name, content, message", [
    ("missing.tflite", None, "no such YAMNet weights file"),
    ("x.tflite", "not a model\n", "not a readable TFLite model"),
    ("x.h5", "not weights\n", "not a readable HDF5 file"),
    ("weights.onnx", "", "not YAMNet weights; give a .tflite or .h5 file"),
    ("other.tflite", _not_yamnet_tflite, "1 convolutions and 1 dense layers, not YAMNet's 27"),
    ("empty_folder", "folder", "folder holds no saved_model.pb"),
])
def test_bad_values_are_one_line_errors_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if callable(content):
        content(path)
    elif content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as err:
        yamnet_embedder(str(path))
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value) and "\n" not in str(err.value)


def test_class_names_are_audiosets_521_in_score_order():
    names = class_names()
    assert len(names) == len(set(names)) == 521
    assert (names[0], names[494], names[495], names[514]) == ("Speech", "Silence", "Sine wave", "White noise")
