"""LEAN's cross attention: the YAMNet projection realigns the Wave Encoder's hidden states.

Both layers take (E_yam (batch, m), h (batch, T, m)) and return (context (batch, m), weights (batch, T)).
Written with elementwise ops and sums (no einsum) so the TFLite converter keeps them builtin.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lean")
class AffinityAttention(keras.layers.Layer):
    """A_t = softmax_t(tanh(E_yam . h_t)), C = sum_t A_t h_t (paper eq. 4-5; no weights of its own)."""

    def call(self, inputs):
        query, states = inputs
        scores = ops.tanh(ops.sum(ops.expand_dims(query, 1) * states, axis=-1))
        weights = ops.softmax(scores, axis=-1)
        return ops.sum(ops.expand_dims(weights, -1) * states, axis=1), weights

    def compute_output_shape(self, input_shape):
        query, states = input_shape
        return (states[0], states[2]), (states[0], states[1])


@keras.saving.register_keras_serializable(package="lean")
class BahdanauAttention(keras.layers.Layer):
    """Q = E W_q + b_q, K = h W_k + b_k, V = tanh(Q + K) W_v + b, A = softmax_t(V), C = sum_t A_t h_t (eq. 8-11)."""

    def __init__(self, units: int = 128, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.query = keras.layers.Dense(units, name="query")
        self.key = keras.layers.Dense(units, name="key")
        self.value = keras.layers.Dense(1, name="value")

    def build(self, input_shape):
        query, states = input_shape
        self.query.build(query)
        self.key.build(states)
        self.value.build((*states[:-1], self.units))

    def call(self, inputs):
        query, states = inputs
        energy = ops.tanh(ops.expand_dims(self.query(query), 1) + self.key(states))
        weights = ops.softmax(ops.squeeze(self.value(energy), -1), axis=-1)
        return ops.sum(ops.expand_dims(weights, -1) * states, axis=1), weights

    def compute_output_shape(self, input_shape):
        query, states = input_shape
        return (states[0], states[2]), (states[0], states[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}
