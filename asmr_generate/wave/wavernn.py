"""WaveRNN (Kalchbrenner 2018) as written in Adell et al. 2020, equations 1-3.

A 16-bit sample is split into coarse (high byte) and fine (low byte), both scaled to [-1, 1]. One
GRU-like layer reads x_t = [c(t-1), f(t-1), c(t)] through the masked input matrix I*: the current
coarse sample c(t) reaches only the fine half of u, r, e (and so of h), so the coarse half of h_t, from
which P(c_t) is read, never sees c_t. The dual softmax reads P(c_t) from the coarse half and P(f_t)
from the fine half; the loss is coarse CE + fine CE.

Conditioning (`conditioning`):
  "none"   equations 1;
  "bias"   equations 2: every gate gets + V h, V h being one learned row per trigger;
  "concat" equations 3: as "bias", and an embedding b is concatenated to h(t-1) inside the R products.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from asmr_generate import SERIALIZATION_PACKAGE
from asmr_generate.wave.codecs import scale_byte
from asmr_generate.wave.params import WaveRNNParams
from asmr_training import loss_scale

CONDITIONINGS = ("none", "bias", "concat")


def input_mask(hidden: int) -> np.ndarray:
    """The mask of I* (3 inputs x 3 gates*hidden): row c(t) is zero on the coarse half of every gate."""
    mask = np.ones((3, 3 * hidden), dtype="float32")
    half = hidden // 2
    for gate in range(3):
        mask[2, gate * hidden : gate * hidden + half] = 0.0
    return mask


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="CoarseFineInputs")
class CoarseFineInputs(layers.Layer):
    """16-bit codes (batch, time + 1) in 0..65535 -> x (batch, time, 3) = scaled [c(t-1), f(t-1), c(t)]."""

    def call(self, samples):
        samples = ops.cast(samples, "int32")
        coarse = ops.cast(samples // 256, "float32")
        fine = ops.cast(samples % 256, "float32")
        return ops.stack([scale_byte(coarse[:, :-1]), scale_byte(fine[:, :-1]), scale_byte(coarse[:, 1:])], axis=-1)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="WaveRNNLayer")
class WaveRNNLayer(layers.Layer):
    """The recurrence of equations 1-3; returns the hidden states (batch, time, hidden)."""

    def __init__(self, hidden: int, triggers: int = 0, conditioning: str = "none", embedding: int = 16, **kwargs):
        super().__init__(**kwargs)
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, not {conditioning!r}")
        if (conditioning == "none") != (triggers == 0):
            raise ValueError("a conditioned WaveRNN needs triggers > 0, an unconditioned one triggers = 0")
        if hidden % 2:
            raise ValueError(f"hidden must be even (coarse and fine halves), not {hidden}")
        self.hidden, self.triggers, self.conditioning, self.embedding = hidden, triggers, conditioning, embedding

    def build(self, input_shape):
        h3 = 3 * self.hidden
        self.input_kernel = self.add_weight(name="input_kernel", shape=(3, h3), initializer="glorot_uniform")
        self.input_bias = self.add_weight(name="input_bias", shape=(h3,), initializer="zeros")
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.hidden, h3), initializer="orthogonal")
        self.recurrent_bias = self.add_weight(name="recurrent_bias", shape=(h3,), initializer="zeros")
        self.mask = ops.convert_to_tensor(input_mask(self.hidden))
        if self.conditioning != "none":
            self.gate_bias = self.add_weight(name="gate_bias", shape=(self.triggers, h3), initializer="zeros")  # V h
        if self.conditioning == "concat":
            self.trigger_embedding = self.add_weight(name="trigger_embedding", shape=(self.triggers, self.embedding),
                                                     initializer="random_normal")  # b
            self.embedding_kernel = self.add_weight(name="embedding_kernel", shape=(self.embedding, h3),
                                                    initializer="glorot_uniform")  # R's columns for b

    def masked_input_kernel(self):
        return self.input_kernel * self.mask

    def condition(self, trigger):
        """Per-sequence additions (to the input side, to the recurrent side) of the gate pre-activations."""
        h3 = 3 * self.hidden
        if self.conditioning == "none":
            return ops.zeros((1, h3)), ops.zeros((1, h3))
        trigger = ops.reshape(ops.cast(trigger, "int32"), (-1,))
        gate = ops.take(self.gate_bias, trigger, axis=0)
        if self.conditioning == "bias":
            return gate, ops.zeros_like(gate)
        b = ops.take(self.trigger_embedding, trigger, axis=0)
        return gate, ops.matmul(b, self.embedding_kernel)

    def cell(self, h, gx, gh):
        """One step: gx = I* x_t + biases (+ V h), gh = the per-sequence R b term; returns h_t."""
        rh = ops.matmul(h, self.recurrent_kernel) + self.recurrent_bias + gh
        n = self.hidden
        u = ops.sigmoid(gx[:, :n] + rh[:, :n])
        r = ops.sigmoid(gx[:, n : 2 * n] + rh[:, n : 2 * n])
        e = ops.tanh(gx[:, 2 * n :] + r * rh[:, 2 * n :])
        return u * h + (1.0 - u) * e

    def call(self, inputs):
        x, trigger = (inputs[0], inputs[1]) if self.triggers else (inputs, None)
        gate, gh = self.condition(trigger)
        gx = ops.matmul(x, self.masked_input_kernel()) + self.input_bias + ops.expand_dims(gate, 1)
        h0 = ops.zeros((ops.shape(x)[0], self.hidden))

        def step(h, gx_t):
            h = self.cell(h, gx_t, gh)
            return h, h

        _, hs = ops.scan(step, h0, ops.transpose(gx, (1, 0, 2)))
        return ops.transpose(hs, (1, 0, 2))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "triggers": self.triggers,
                "conditioning": self.conditioning, "embedding": self.embedding}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="DualSoftmax")
class DualSoftmax(layers.Layer):
    """P(c_t) = softmax(O2 relu(O1 y_c)), P(f_t) = softmax(O4 relu(O3 y_f)) over split(h_t); returns logits."""

    def __init__(self, hidden: int, output_hidden: int, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.output_hidden = hidden, output_hidden
        self.o1 = layers.Dense(output_hidden, activation="relu", name="o1")
        self.o2 = layers.Dense(256, name="o2")
        self.o3 = layers.Dense(output_hidden, activation="relu", name="o3")
        self.o4 = layers.Dense(256, name="o4")

    def build(self, input_shape):
        half = (*input_shape[:-1], self.hidden // 2)
        for first, second in ((self.o1, self.o2), (self.o3, self.o4)):
            first.build(half)
            second.build((*input_shape[:-1], self.output_hidden))

    def coarse(self, h):
        return self.o2(self.o1(h[..., : self.hidden // 2]))

    def fine(self, h):
        return self.o4(self.o3(h[..., self.hidden // 2 :]))

    def call(self, h):
        return self.coarse(h), self.fine(h)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "output_hidden": self.output_hidden}


def build_wavernn(params: WaveRNNParams = WaveRNNParams(), triggers: int = 0, conditioning: str = "none") -> keras.Model:
    """Inputs {"samples": 16-bit codes (batch, time + 1)[, "trigger"]}; outputs {"coarse", "fine"} logits
    (batch, time, 256) for the samples at 1..time."""
    if triggers and conditioning == "none":
        conditioning = "concat"
    samples = keras.Input((None,), dtype="int32", name="samples")
    inputs = {"samples": samples}
    x = CoarseFineInputs(name="coarse_fine")(samples)
    rnn = WaveRNNLayer(params.hidden, triggers, conditioning, params.embedding, name="wavernn")
    if triggers:
        inputs["trigger"] = keras.Input((), dtype="int32", name="trigger")
        h = rnn([x, inputs["trigger"]])
    else:
        h = rnn(x)
    coarse, fine = DualSoftmax(params.hidden, params.output_hidden, name="dual_softmax")(h)
    outputs = {"coarse": layers.Identity(name="coarse")(coarse), "fine": layers.Identity(name="fine")(fine)}
    return keras.Model(inputs, outputs, name=f"wavernn_{conditioning}" if triggers else "wavernn")


def compile_wavernn(model: keras.Model, learning_rate: float) -> keras.Model:
    """Loss = coarse CE + fine CE (the paper kept the equal weighting)."""
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=loss_scale.for_model(model, keras.optimizers.Adam(learning_rate)), loss={"coarse": ce, "fine": ce})
    return model


def recurrent_layer(model: keras.Model) -> WaveRNNLayer:
    return model.get_layer("wavernn")


def trigger_embeddings(model: keras.Model) -> np.ndarray:
    """Per-trigger learned vectors [V h, b] (triggers, dims) for Figure 8."""
    rnn = recurrent_layer(model)
    if rnn.conditioning == "none":
        raise ValueError(f"model {model.name} is not conditioned")
    parts = [ops.convert_to_numpy(rnn.gate_bias)]
    if rnn.conditioning == "concat":
        parts.append(ops.convert_to_numpy(rnn.trigger_embedding))
    return np.concatenate(parts, axis=1)
