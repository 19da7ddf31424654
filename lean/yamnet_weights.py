"""Getting YAMNet's weights into the native Keras YAMNet (lean.yamnet), whatever form they come in.

A `--yamnet` value names one of five forms, and `weights_source` says which: Google's lite model
(`.tflite`; the one bundled in asmr_audioset/assets is the default), Keras HDF5 weights (`.h5`: the official
yamnet.h5 or a saved stand-in), a SavedModel folder or a hub handle (both run whole, not loaded into
the native network), or `standin` (no pretrained weights: the native network as initialised).

The lite model's weights are int8 with BatchNorm folded into the convolutions, and the converter
merges tensor names, so its operators are read in graph order (27 convolutions, then the 521-way
dense head) and each folded batch norm becomes the identity plus the conv's bias. Its statistics are
gone, so `freeze_folded_batch_norms` keeps those layers frozen when YAMNet is fine-tuned.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import keras
import numpy as np

from asmr_audioset.lite_yamnet import YAMNET_TFLITE
from audioprep.errors import UsageError

STANDIN = "standin"
NATIVE_FORMS = ("tflite", "h5", STANDIN)  # forms whose weights go into the native network
CONVOLUTIONS = ("CONV_2D", "DEPTHWISE_CONV_2D")
YAMNET_CONVOLUTIONS = 27


@dataclass(frozen=True)
class WeightsSource:
    """What a `--yamnet` value names: its form and where it lies (None for the stand-in)."""

    form: str  # one of NATIVE_FORMS, "savedmodel" or "hub"
    location: str | None

    @property
    def native(self) -> bool:
        return self.form in NATIVE_FORMS


def weights_source(value: str | Path | None) -> WeightsSource:
    """Decide which form a `--yamnet` value is; None means the bundled lite model.

    Anything else (a missing file, another extension, a folder without saved_model.pb) is a one-line
    UsageError naming it; a file's content is checked when it is loaded.
    """
    if value is None:
        return WeightsSource("tflite", str(YAMNET_TFLITE))
    text = str(value)
    if text == STANDIN:
        return WeightsSource(STANDIN, None)
    if "://" in text:
        return WeightsSource("hub", text)
    path = Path(text)
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise UsageError(f"{text}: folder holds no saved_model.pb, so it is no SavedModel of YAMNet")
        return WeightsSource("savedmodel", text)
    form = path.suffix.lower().removeprefix(".")
    if form not in ("tflite", "h5"):
        raise UsageError(
            f"{text}: not YAMNet weights; give a .tflite or .h5 file, a SavedModel folder, a hub URL or '{STANDIN}'"
        )
    if not path.is_file():
        raise UsageError(f"{text}: no such YAMNet weights file")
    return WeightsSource(form, text)


def load_native(net: keras.Model, source: WeightsSource) -> keras.Model:
    """Put a native form's weights into the native YAMNet `net` (the stand-in keeps its initial weights)."""
    if source.form == "tflite":
        return load_yamnet_tflite(net, source.location)
    if source.form == "h5":
        return load_yamnet_h5(net, source.location)
    if source.form != STANDIN:
        raise UsageError(f"{source.location}: a {source.form} YAMNet runs whole; the native one takes .tflite or .h5")
    return net


@functools.cache
# --- .tflite --------------------------------------------------------------------------------------


def _interpreter(path):
    """The interpreter without XNNPACK, so tensors read as the file holds them (with XNNPACK, DEQUANTIZE
    outputs read back as zeros); only constants are read, nothing is run."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        return Interpreter(
            model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
    except ValueError as err:
        raise UsageError(f"{path}: not a readable TFLite model ({str(err).splitlines()[0]})") from err


def _float_constant(interpreter, details: dict, index: int) -> np.ndarray:
    """A constant tensor as float32; int8 ones scaled per tensor or per channel (the quantized dimension)."""
    values = interpreter.get_tensor(index)
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float32)
    quant = details[index]["quantization_parameters"]
    shape = [1] * values.ndim
    shape[quant["quantized_dimension"]] = -1
    zero = quant["zero_points"].reshape(shape)
    return ((values.astype(np.float32) - zero) * quant["scales"].reshape(shape)).astype(np.float32)


def tflite_layers(path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(operator, float weights in TFLite layout, bias) of each convolution and the dense head after them,
    in graph order; weights behind a DEQUANTIZE are read at its int8 input."""
    interpreter = _interpreter(path)
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()
    dequantized = {op["outputs"][0]: op["inputs"][0] for op in ops if op["op_name"] == "DEQUANTIZE"}
    first = next((i for i, op in enumerate(ops) if op["op_name"] in CONVOLUTIONS), len(ops))
    layers = []
    for op in ops[first:]:
        if op["op_name"] in (*CONVOLUTIONS, "FULLY_CONNECTED"):
            weights, bias = (dequantized.get(i, i) for i in op["inputs"][1:3])
            if bias < 0:
                raise UsageError(f"{path}: {op['op_name']} #{op['index']} has no bias, so it is not YAMNet")
            layers.append((op["op_name"], *(_float_constant(interpreter, details, i) for i in (weights, bias))))
    convolution = [name in CONVOLUTIONS for name, _, _ in layers]
    if convolution != [True] * YAMNET_CONVOLUTIONS + [False]:
        raise UsageError(
            f"{path}: {sum(convolution)} convolutions and {convolution.count(False)} dense layers, not YAMNet's "
            f"{YAMNET_CONVOLUTIONS} convolutions then one dense head"
        )
    return layers


def _keras_kernel(op: str, weights: np.ndarray) -> np.ndarray:
    """TFLite weights in Keras' layout: CONV_2D [out, h, w, in] -> [h, w, in, out]; DEPTHWISE_CONV_2D
    [1, h, w, in * mult] -> [h, w, in, mult] (mult 1 here); FULLY_CONNECTED [out, in] -> [in, out]."""
    if op == "CONV_2D":
        return weights.transpose(1, 2, 3, 0)
    if op == "DEPTHWISE_CONV_2D":
        return weights[0][..., None]
    return weights.T


def _native_targets(net: keras.Model) -> list[tuple[keras.layers.Layer, keras.layers.Layer | None]]:
    """(layer, the batch norm after it) for each convolution of the native network, then (logits, None)."""
    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D)]
    return [*((conv, net.get_layer(f"{conv.name}_bn")) for conv in convs), (net.get_layer("logits"), None)]


def load_yamnet_tflite(net: keras.Model, path) -> keras.Model:
    """Load the lite YAMNet's weights into the native `net`, layer for layer, every shape checked."""
    for (op, weights, bias), (layer, norm) in zip(tflite_layers(path), _native_targets(net), strict=True):
        kernel = _keras_kernel(op, weights)
        if kernel.shape != tuple(layer.kernel.shape):
            raise UsageError(f"{path}: {op} weights {kernel.shape} do not fit {layer.name}'s "
                             f"{tuple(layer.kernel.shape)}, so it is not this YAMNet")
        if norm is None:
            layer.set_weights([kernel, bias])
        else:
            layer.set_weights([kernel])
            norm.set_weights([bias, np.zeros_like(bias), np.full_like(bias, _folded_variance(norm))])
    return net


def _folded_variance(norm: keras.layers.BatchNormalization) -> np.float32:
    """With mean 0, a variance of 1 - epsilon makes the batch norm divide by exactly 1: beta is the bias."""
    return np.float32(1.0 - norm.epsilon)


def folded_batch_norms(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """The batch norms holding a folded bias (set by `load_yamnet_tflite`, kept by an .h5 round trip)."""
    return [
        layer for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
        and not np.any(layer.moving_mean.numpy())
        and np.all(layer.moving_variance.numpy() == _folded_variance(layer))
    ]


def freeze_folded_batch_norms(model: keras.Model) -> None:
    """Keep folded batch norms frozen (inference mode, beta fixed): batch statistics would replace the
    identity their weights assume, and the real statistics cannot be recovered."""
    for norm in folded_batch_norms(model):
        norm.trainable = False


# --- .h5 ------------------------------------------------------------------------------------------


def _h5_weight_groups(path: Path) -> list[list[np.ndarray]]:
    """Weights of every layer that has any, in the file's layer order (Keras 2 `save_weights` layout)."""
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise UsageError(f"{path}: not a readable HDF5 file ({str(err).splitlines()[0]})") from err
    with f:
        group = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in group.attrs:
            raise UsageError(f"{path}: not a Keras HDF5 weights file (no layer_names)")
        out = []
        for layer_name in group.attrs["layer_names"]:
            layer_name = layer_name.decode() if isinstance(layer_name, bytes) else layer_name
            layer = group[layer_name]
            names = [n.decode() if isinstance(n, bytes) else n for n in layer.attrs.get("weight_names", [])]
            if names:
                out.append([np.asarray(layer[n]) for n in names])
        return out


def load_yamnet_h5(net: keras.Model, path) -> keras.Model:
    """Load the official `yamnet.h5` (or any Keras HDF5 weights of this network) by layer order.

    The official file names its layers `layer1/conv`, ... which Keras 3 cannot use as names, so
    layers are matched in order and every shape is checked.
    """
    path = Path(path)
    groups = _h5_weight_groups(path)
    layers = [layer for layer in net.layers if layer.weights]
    if len(groups) != len(layers):
        raise UsageError(f"{path}: holds weights for {len(groups)} layers, native YAMNet has {len(layers)}")
    for layer, arrays in zip(layers, groups, strict=True):
        expected = [tuple(w.shape) for w in layer.weights]
        got = [a.shape for a in arrays]
        if expected != got:
            raise UsageError(f"{path}: layer {layer.name} expects shapes {expected}, file has {got}")
        layer.set_weights(arrays)
    return net


def save_yamnet_h5(net: keras.Model, path) -> Path:
    """Write weights in the Keras 2 HDF5 layout `load_yamnet_h5` reads (layer order, per-layer groups)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        layers = net.layers
        f.attrs["layer_names"] = [layer.name.encode() for layer in layers]
        for layer in layers:
            g = f.create_group(layer.name)
            names = [f"{w.path}:0" for w in layer.weights]
            g.attrs["weight_names"] = [n.encode() for n in names]
            for n, w in zip(names, layer.weights, strict=True):
                g.create_dataset(n, data=np.asarray(w))
    return path


# --- SavedModel folder or hub handle --------------------------------------------------------------


def hub_cache_dir() -> Path:
    """Where tensorflow_hub keeps downloads: $TFHUB_CACHE_DIR if set, else a folder in the user's cache
    (its own default is the temporary folder, which would download the model again after a reboot)."""
    if os.environ.get("TFHUB_CACHE_DIR"):
        return Path(os.environ["TFHUB_CACHE_DIR"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "asmr-toolkit" / "tfhub"


def resolve_handle(handle: str) -> str:
    """A hub handle (tfhub.dev / Kaggle URL) or local SavedModel folder -> a local SavedModel path.

    A hub handle is downloaded once into `hub_cache_dir()` and read from there offline afterwards.
    """
    source = weights_source(handle)
    if source.form == "savedmodel":
        return source.location
    if source.form != "hub":
        raise UsageError(f"{handle}: neither a SavedModel folder nor a hub URL")
    os.environ["TFHUB_CACHE_DIR"] = str(hub_cache_dir())
    import tensorflow_hub as hub

    try:
        return hub.resolve(handle)
    except Exception as err:  # noqa: BLE001 - network/cache failures reach the user as one line
        raise UsageError(f"{handle}: cannot resolve hub handle ({type(err).__name__}: {err})") from err
