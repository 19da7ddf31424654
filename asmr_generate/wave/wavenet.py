"""WaveNet (van den Oord 2016) as used by Adell et al. 2020: causal dilated convolutions over 8-bit mu-law.

Input codes (batch, time, channels) -> one-hot (256 input channels per audio channel) -> causal conv ->
gated residual blocks z = tanh(W_f*x + V_f h) * sigmoid(W_g*x + V_g h) with residual and skip outputs ->
relu -> 1x1 conv -> relu -> 1x1 conv -> logits (batch, time, channels, 256). The output at t is the
distribution of the sample at t + 1. Global conditioning V h is one learned embedding row per trigger and
layer (the paper's "embedding module"). `channels=2` is the stereo variant: both channels enter the
network together and both are predicted from the shared skip sum.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from asmr_generate import SERIALIZATION_PACKAGE
from asmr_generate.wave.params import WaveNetParams
from asmr_training import loss_scale


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="OneHotCodes")
class OneHotCodes(layers.Layer):
    """Integer codes (batch, time, channels) -> one-hot (batch, time, channels * quantization)."""

    def __init__(self, quantization: int, **kwargs):
        super().__init__(**kwargs)
        self.quantization = quantization

    def call(self, codes):
        onehot = ops.one_hot(ops.cast(codes, "int32"), self.quantization)
        shape = ops.shape(onehot)
        return ops.reshape(onehot, (shape[0], shape[1], shape[2] * self.quantization))

    def get_config(self):
        return {**super().get_config(), "quantization": self.quantization}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="ResidualBlock")
class ResidualBlock(layers.Layer):
    """One dilated gated layer; returns (residual output, skip contribution)."""

    def __init__(self, residual: int, skip: int, dilation: int, kernel_size: int = 2, triggers: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.residual, self.skip, self.dilation = residual, skip, dilation
        self.kernel_size, self.triggers = kernel_size, triggers
        self.dilated = layers.Conv1D(2 * residual, kernel_size, dilation_rate=dilation, padding="causal", name="dilated")
        self.mix = layers.Conv1D(residual + skip, 1, name="mix")
        self.condition = layers.Embedding(triggers, 2 * residual, name="condition") if triggers else None

    def build(self, input_shape):
        h_shape = input_shape[0] if self.triggers else input_shape
        self.dilated.build(h_shape)
        self.mix.build((*h_shape[:-1], self.residual))
        if self.condition is not None:
            self.condition.build((None,))

    def call(self, inputs):
        h, trigger = (inputs[0], inputs[1]) if self.triggers else (inputs, None)
        fg = self.dilated(h)
        if trigger is not None:
            fg = fg + ops.expand_dims(self.condition(ops.reshape(trigger, (-1,))), 1)
        z = ops.tanh(fg[..., : self.residual]) * ops.sigmoid(fg[..., self.residual :])
        mixed = self.mix(z)
        return h + mixed[..., : self.residual], mixed[..., self.residual :]

    def get_config(self):
        return {**super().get_config(), "residual": self.residual, "skip": self.skip, "dilation": self.dilation,
                "kernel_size": self.kernel_size, "triggers": self.triggers}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="SplitChannels")
class SplitChannels(layers.Layer):
    """Logits (batch, time, channels * quantization) -> (batch, time, channels, quantization)."""

    def __init__(self, channels: int, quantization: int, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.quantization = channels, quantization

    def call(self, logits):
        shape = ops.shape(logits)
        return ops.reshape(logits, (shape[0], shape[1], self.channels, self.quantization))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "quantization": self.quantization}


def build_wavenet(params: WaveNetParams = WaveNetParams(), triggers: int = 0) -> keras.Model:
    """Inputs {"audio": int codes (batch, time, channels)[, "trigger": int (batch,)]}; output logits."""
    audio = keras.Input((None, params.channels), dtype="int32", name="audio")
    inputs = {"audio": audio}
    trigger = None
    if triggers:
        trigger = inputs["trigger"] = keras.Input((), dtype="int32", name="trigger")
    x = OneHotCodes(params.quantization, name="onehot")(audio)
    h = layers.Conv1D(params.residual_channels, params.kernel_size, padding="causal", name="causal")(x)
    skips = []
    for k, dilation in enumerate(params.dilations):
        block = ResidualBlock(params.residual_channels, params.skip_channels, dilation, params.kernel_size,
                              triggers, name=f"block_{k}")
        h, skip = block([h, trigger] if triggers else h)
        skips.append(skip)
    s = layers.Activation("relu")(layers.Add(name="skips")(skips))
    s = layers.Conv1D(params.skip_channels, 1, activation="relu", name="post_1")(s)
    logits = layers.Conv1D(params.channels * params.quantization, 1, name="post_2")(s)
    logits = SplitChannels(params.channels, params.quantization, name="logits")(logits)
    return keras.Model(inputs, logits, name="wavenet_conditioned" if triggers else "wavenet")


def compile_wavenet(model: keras.Model, learning_rate: float) -> keras.Model:
    model.compile(optimizer=loss_scale.for_model(model, keras.optimizers.Adam(learning_rate)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def blocks(model: keras.Model) -> list[ResidualBlock]:
    return [layer for layer in model.layers if isinstance(layer, ResidualBlock)]


def trigger_embeddings(model: keras.Model):
    """The learned V h rows of every layer, concatenated per trigger: (triggers, layers * 2C) for Figure 8."""
    rows = [ops.convert_to_numpy(b.condition.embeddings) for b in blocks(model) if b.condition is not None]
    if not rows:
        raise ValueError(f"model {model.name} is not conditioned")
    return np.concatenate(rows, axis=1)
