"""LEAN's left channel: the raw 1 s waveform as 40 frames of 25 ms, read by two Bidirectional LSTM(128).

Training uses Keras's Bidirectional(LSTM). For TFLite the same weights run through
`UnrolledBiLSTM`, which writes the 40 steps out as plain builtin ops (Keras 3 LSTMs are not fused
into TFLite's sequence-LSTM kernel, and full-int8 calibration fails on the WHILE-loop form) with
both directions in one set of gate ops per step (their recurrent matmuls stacked) and the input
projections done once per layer: 14 operators per step instead of 30 (the state split by one
UNPACK and the gates by one SPLIT_V, not by slices), which makes the exported file smaller and
faster. Two matmuls per step rather than one block-diagonal one (0.26 MB
of int8 zeros) or one batched one (int8 BATCH_MATMUL runs at half the speed of FULLY_CONNECTED).
"""

from __future__ import annotations

import keras
from keras import ops

from lean.params import LeanParams


@keras.saving.register_keras_serializable(package="lean")
class UnrolledBiLSTM(keras.layers.Layer):
    """Bidirectional(LSTM(units)) computed step by step, weights laid out exactly as Keras's layer holds them
    (forward kernel, recurrent kernel, bias, then backward), so `set_weights` copies a trained one over."""

    def __init__(self, units: int, return_sequences: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.return_sequences = units, return_sequences

    def build(self, input_shape):
        dim, four = input_shape[-1], 4 * self.units
        self.cells = []
        for direction in ("forward", "backward"):
            self.cells.append(
                (
                    self.add_weight(shape=(dim, four), name=f"{direction}_kernel"),
                    self.add_weight(shape=(self.units, four), name=f"{direction}_recurrent_kernel"),
                    self.add_weight(shape=(four,), initializer="zeros", name=f"{direction}_bias"),
                )
            )

    def _gates_last_tanh(self, matrix):
        """Keras's gate order i, f, g, o -> i, f, o, g: one sigmoid over the first three, tanh over the last."""
        u = self.units
        return ops.concatenate([matrix[..., : 2 * u], matrix[..., 3 * u :], matrix[..., 2 * u : 3 * u]], axis=-1)

    def call(self, x):
        u = self.units
        (kf, rf, bf), (kb, rb, bb) = self.cells
        forward = ops.matmul(x, self._gates_last_tanh(kf)) + self._gates_last_tanh(bf)
        backward = ops.matmul(ops.flip(x, axis=1), self._gates_last_tanh(kb)) + self._gates_last_tanh(bb)
        steps = ops.unstack(ops.stack([forward, backward]), axis=2)  # T x (direction, batch, 4u)
        recurrent = (self._gates_last_tanh(rf), self._gates_last_tanh(rb))  # (u, 4u) each
        h = c = ops.zeros_like(steps[0][..., :u])
        outputs = []
        for z in steps:
            forward_h, backward_h = ops.unstack(h)  # one UNPACK, not two slices
            z = z + ops.stack([ops.matmul(forward_h, recurrent[0]), ops.matmul(backward_h, recurrent[1])])
            sigmoid_part, tanh_part = ops.split(z, [3 * u], axis=-1)  # one SPLIT_V, not two slices
            i, f, o = ops.split(ops.sigmoid(sigmoid_part), 3, axis=-1)
            c = f * c + i * ops.tanh(tanh_part)
            h = o * ops.tanh(c)
            outputs.append(h)
        if not self.return_sequences:
            return ops.concatenate([h[0], h[1]], axis=-1)  # forward after the last frame, backward after the first
        states = ops.stack(outputs, axis=2)  # (direction, batch, T, u)
        return ops.concatenate([states[0], ops.flip(states[1], axis=1)], axis=-1)

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (*input_shape[:2], 2 * self.units)
        return (input_shape[0], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_sequences": self.return_sequences}


def wave_encoder(wave, params: LeanParams = LeanParams(), sequences: bool = True, unroll: bool = False):
    """(batch, patch_samples) waveform tensor -> hidden states (batch, 40, 256), or the last state (batch, 256).

    `unroll=True` builds the TFLite form (`UnrolledBiLSTM`) with the same weights in the same order.
    At a rate where 1 s does not split into 40 whole frames (22.05 kHz: 40 x 551 + 10), the last
    few samples are cut off first, as the log-mel front end drops a partial window.
    """
    framed = params.wave_frames * params.wave_frame_length
    if framed < params.patch_samples:
        wave = keras.layers.Reshape((params.patch_samples, 1), name="wave_column")(wave)
        wave = keras.layers.Cropping1D((0, params.patch_samples - framed), name="wave_trim")(wave)
    x = keras.layers.Reshape((params.wave_frames, params.wave_frame_length), name="wave_frames")(wave)
    if unroll:
        x = UnrolledBiLSTM(params.lstm_units, return_sequences=True, name="wave_bilstm_1")(x)
        return UnrolledBiLSTM(params.lstm_units, return_sequences=sequences, name="wave_bilstm_2")(x)
    lstm = keras.layers.LSTM
    x = keras.layers.Bidirectional(lstm(params.lstm_units, return_sequences=True), name="wave_bilstm_1")(x)
    return keras.layers.Bidirectional(lstm(params.lstm_units, return_sequences=sequences), name="wave_bilstm_2")(x)
