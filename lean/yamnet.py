"""YAMNet two ways in: built natively in Keras 3 from the published definition, or loaded from TF-Hub.

The native network follows tensorflow/models research/audioset/yamnet/yamnet.py layer for layer
(MobileNet-v1: Conv2D(32, stride 2) then 13 depthwise-separable blocks, batch norm with
center=True, scale=False, eps 1e-4, a 1024-d embedding and 521 sigmoid scores: 3,751,369
parameters), with the log-mel front end inside the graph so it takes batched waveforms directly.
The official `yamnet.h5` loads into it by layer order. The hub path wraps a SavedModel (a hub
handle or a local folder) in `keras.layers.TFSMLayer`, batched with `tf.map_fn` because the hub
signature takes one 1-D waveform.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import keras
import numpy as np
import tensorflow as tf

from audioprep.errors import UsageError
from lean.augment import SpecAugment, spec_augmented
from lean.front_end import YamnetLogMel
from lean.params import LeanParams

EMBEDDING_SIZE = 1024
HUB_SAMPLE_RATE = 16000  # what the hub YAMNet's signature takes
FRONT_END = "log_mel"  # the log-mel layer's name (the int8 export keeps it float)

# (kind, stride, filters) for layer1..layer14, from YAMNet's _YAMNET_LAYER_DEFS (all kernels 3x3).
LAYER_DEFS = (
    ("conv", 2, 32),
    ("separable", 1, 64),
    ("separable", 2, 128),
    ("separable", 1, 128),
    ("separable", 2, 256),
    ("separable", 1, 256),
    ("separable", 2, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 1, 512),
    ("separable", 2, 1024),
    ("separable", 1, 1024),
)


def _batch_norm(name: str, params: LeanParams) -> keras.layers.Layer:
    return keras.layers.BatchNormalization(center=True, scale=False, epsilon=params.yamnet_bn_epsilon, name=name)


def _conv_block(x, name: str, stride: int, filters: int, params: LeanParams):
    x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = _batch_norm(f"{name}_conv_bn", params)(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _separable_block(x, name: str, stride: int, filters: int, params: LeanParams):
    x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_depthwise_conv")(x)
    x = _batch_norm(f"{name}_depthwise_conv_bn", params)(x)
    x = keras.layers.ReLU(name=f"{name}_depthwise_conv_relu")(x)
    x = keras.layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{name}_pointwise_conv")(x)
    x = _batch_norm(f"{name}_pointwise_conv_bn", params)(x)
    return keras.layers.ReLU(name=f"{name}_pointwise_conv_relu")(x)


def yamnet(params: LeanParams = LeanParams(), name: str = "yamnet", spec_augment: bool = False) -> keras.Model:
    """Native YAMNet: (batch, patch_samples) waveforms -> [scores (batch, 521), embeddings (batch, 1024)].

    One 1 s waveform gives 98 log-mel frames; the first 96 form YAMNet's single (96, 64) patch. With
    `spec_augment` and masks asked for in params, the patch is masked while training (lean.augment); the
    layer has no weights, so weights move freely between the two forms.
    """
    front_end = params.front_end
    wave = keras.Input((params.patch_samples,), name="waveform")
    mel = YamnetLogMel(front_end, name=FRONT_END)(wave)
    frames = mel.shape[1]
    if frames < front_end.patch_frames:
        raise UsageError(
            f"LeanParams.patch_seconds={params.patch_seconds}: {params.patch_samples} samples give {frames} "
            f"log-mel frames, fewer than one YAMNet patch ({front_end.patch_frames})"
        )
    x = keras.layers.Cropping1D((0, frames - front_end.patch_frames), name="patch")(mel)
    if spec_augment and spec_augmented(params):
        x = SpecAugment.from_params(params)(x)
    x = keras.layers.Reshape((front_end.patch_frames, front_end.mel_bands, 1), name="patch_image")(x)
    for i, (kind, stride, filters) in enumerate(LAYER_DEFS, start=1):
        block = _conv_block if kind == "conv" else _separable_block
        x = block(x, f"layer{i}", stride, filters, params)
    embeddings = keras.layers.GlobalAveragePooling2D(name="embeddings")(x)
    logits = keras.layers.Dense(params.yamnet_classes, name="logits")(embeddings)
    scores = keras.layers.Activation("sigmoid", name="scores")(logits)
    return keras.Model(wave, [scores, embeddings], name=name)


def embedding_model(net: keras.Model) -> keras.Model:
    """The native YAMNet cut at its 1024-d embedding (no 521-class head), sharing its layers."""
    return keras.Model(net.inputs, net.outputs[1], name="yamnet_embedding")


def _h5_weight_groups(path: Path) -> list[list[np.ndarray]]:
    """Weights of every layer that has any, in the file's layer order (Keras 2 `save_weights` layout)."""
    with h5py.File(path, "r") as f:
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
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such YAMNet weights file")
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


def resolve_handle(handle: str) -> str:
    """A hub handle (tfhub.dev / Kaggle URL) or local SavedModel folder -> a local SavedModel path."""
    local = Path(handle)
    if local.is_dir():
        if not (local / "saved_model.pb").exists():
            raise UsageError(f"{handle}: folder holds no saved_model.pb")
        return str(local)
    if "://" not in handle:
        raise UsageError(f"{handle}: neither a SavedModel folder, a .h5 weights file nor a hub URL")
    import tensorflow_hub as hub

    try:
        return hub.resolve(handle)
    except Exception as err:  # noqa: BLE001 - network/cache failures reach the user as one line
        raise UsageError(f"{handle}: cannot resolve hub handle ({type(err).__name__}: {err})") from err


@keras.saving.register_keras_serializable(package="lean")
class HubYamnet(keras.layers.Layer):
    """A hub YAMNet SavedModel as a frozen Keras 3 layer: (batch, n) waveforms -> (batch, 1024) embeddings.

    The hub signature maps ONE waveform to (scores, embeddings, log_mel) per 0.96 s patch (the hub
    model pads a 1 s input to two patches), so each waveform is run on its own with `tf.map_fn`
    and its patch embeddings are averaged.
    """

    def __init__(self, handle: str, endpoint: str = "serving_default", **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.handle, self.endpoint = str(handle), endpoint
        self.saved = keras.layers.TFSMLayer(resolve_handle(self.handle), call_endpoint=endpoint, trainable=False)

    def _embeddings(self, waveform):
        out = self.saved(waveform)
        if isinstance(out, dict):
            out = [out[k] for k in sorted(out)]  # output_0 scores, output_1 embeddings, output_2 log_mel
        return tf.reduce_mean(out[1], axis=0)

    def call(self, waveforms):
        waveforms = tf.convert_to_tensor(waveforms, tf.float32)
        return tf.map_fn(
            self._embeddings, waveforms, fn_output_signature=tf.TensorSpec([EMBEDDING_SIZE], tf.float32)
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], EMBEDDING_SIZE)

    def get_config(self):
        return {**super().get_config(), "handle": self.handle, "endpoint": self.endpoint}


def hub_embedding_model(handle: str, params: LeanParams = LeanParams()) -> keras.Model:
    if params.sample_rate != HUB_SAMPLE_RATE:
        raise UsageError(
            f"LeanParams.sample_rate={params.sample_rate}: the hub YAMNet takes {HUB_SAMPLE_RATE} Hz waveforms; "
            "pass yamnet.h5 weights (the native YAMNet follows the sample rate)"
        )
    wave = keras.Input((params.patch_samples,), name="waveform")
    return keras.Model(wave, HubYamnet(handle, name="hub_yamnet")(wave), name="yamnet_embedding")


def yamnet_embedder(source: str | Path | None, params: LeanParams = LeanParams(), spec_augment: bool = False):
    """The YAMNet embedding model for a `--yamnet` value: `.h5` weights (native), or a hub handle / SavedModel.

    `spec_augment` puts params' SpecAugment masks into the native graph (the hub model's log-mel is sealed inside it).
    """
    if source is not None and not str(source).endswith(".h5"):
        if spec_augment and spec_augmented(params):
            raise UsageError(f"--yamnet {source}: SpecAugment masks YAMNet's log-mel, which only the native YAMNet "
                             "exposes; pass yamnet.h5 weights or drop --spec-time-masks/--spec-freq-masks")
        return hub_embedding_model(str(source), params)
    net = yamnet(params, spec_augment=spec_augment)
    if source is not None:
        load_yamnet_h5(net, source)
    return embedding_model(net)
