"""YAMNet two ways in: built natively in Keras 3 from the published definition, or loaded from TF-Hub.

The native network follows tensorflow/models research/audioset/yamnet/yamnet.py layer for layer
(MobileNet-v1: Conv2D(32, stride 2) then 13 depthwise-separable blocks, batch norm with
center=True, scale=False, eps 1e-4, a 1024-d embedding and 521 sigmoid scores: 3,751,369
parameters), with the log-mel front end inside the graph so it takes batched waveforms directly.
Pretrained weights (the bundled lite model, or `.h5`) load into it through lean.yamnet_weights. The
hub path wraps a SavedModel (a hub handle or a local folder) in `keras.layers.TFSMLayer`, batched
with `tf.map_fn` because the hub signature takes one 1-D waveform.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from audioprep.errors import UsageError
from lean.augment import SpecAugment, spec_augmented
from lean.front_end import YamnetLogMel
from lean.params import LeanParams
from lean.yamnet_weights import load_native, resolve_handle, weights_source

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
            "pass .tflite or .h5 weights (the native YAMNet follows the sample rate)"
        )
    wave = keras.Input((params.patch_samples,), name="waveform")
    return keras.Model(wave, HubYamnet(handle, name="hub_yamnet")(wave), name="yamnet_embedding")


def yamnet_embedder(source: str | Path | None, params: LeanParams = LeanParams(), spec_augment: bool = False):
    """The YAMNet embedding model for a `--yamnet` value (lean.yamnet_weights.weights_source): the native
    network with `.tflite` weights (None: the bundled ones), `.h5` weights or none (`standin`), or a hub
    handle / SavedModel run whole.

    `spec_augment` puts params' SpecAugment masks into the native graph (the hub model's log-mel is sealed inside it).
    """
    weights = weights_source(source)
    if not weights.native:
        if spec_augment and spec_augmented(params):
            raise UsageError(f"--yamnet {source}: SpecAugment masks YAMNet's log-mel, which only the native YAMNet "
                             "exposes; pass .tflite or .h5 weights or drop --spec-time-masks/--spec-freq-masks")
        return hub_embedding_model(weights.location, params)
    return embedding_model(load_native(yamnet(params, spec_augment=spec_augment), weights))
