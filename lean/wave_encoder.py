"""LEAN's left channel: the raw 1 s waveform as 40 frames of 25 ms, read by two Bidirectional LSTM(128).

Training uses Keras's Bidirectional(LSTM). For TFLite the same weights run through
`UnrolledBiLSTM`, which writes the 40 steps out as plain builtin ops (Keras 3 LSTMs are not fused
into TFLite's sequence-LSTM kernel, and full-int8 calibration fails on the WHILE-loop form) with
both directions in one set of ops per step and the input projections done once per layer:
about 12 operators per step instead of 30, which makes the exported file smaller and faster.
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

    def _recurrent_matrix(self):
        """(2u, 8u): [h_f, h_b] -> gates ordered [i_f i_b f_f f_b o_f o_b g_f g_b] (block-diagonal by direction)."""
        u = self.units
        zeros = ops.zeros((u, u))
        (_, rf, _), (_, rb, _) = self.cells
        blocks = []
        for gate in (0, 1, 3, 2):  # Keras order is i, f, g, o; ours puts the three sigmoid gates first
            fwd, bwd = rf[:, gate * u : (gate + 1) * u], rb[:, gate * u : (gate + 1) * u]
            blocks += [ops.concatenate([fwd, zeros], axis=0), ops.concatenate([zeros, bwd], axis=0)]
        return ops.concatenate(blocks, axis=1)

    def call(self, x):
        u = self.units
        (kf, _, bf), (kb, _, bb) = self.cells
        xf = ops.split(ops.matmul(x, kf) + bf, 4, axis=-1)
        xb = ops.split(ops.matmul(ops.flip(x, axis=1), kb) + bb, 4, axis=-1)
        projected = ops.concatenate([xf[0], xb[0], xf[1], xb[1], xf[3], xb[3], xf[2], xb[2]], axis=-1)
        recurrent = self._recurrent_matrix()
        steps = ops.unstack(projected, axis=1)
        h = c = ops.zeros_like(steps[0][:, : 2 * u])
        outputs = []
        for z in steps:
            z = z + ops.matmul(h, recurrent)
            i, f, o = ops.split(ops.sigmoid(z[:, : 6 * u]), 3, axis=-1)
            c = f * c + i * ops.tanh(z[:, 6 * u :])
            h = o * ops.tanh(c)
            outputs.append(h)
        if not self.return_sequences:
            return h  # [forward after the last frame, backward after the first frame], as Keras concatenates them
        states = ops.stack(outputs, axis=1)
        return ops.concatenate([states[..., :u], ops.flip(states[..., u:], axis=1)], axis=-1)

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (*input_shape[:2], 2 * self.units)
        return (input_shape[0], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_sequences": self.return_sequences}


def wave_encoder(wave, params: LeanParams = LeanParams(), sequences: bool = True, unroll: bool = False):
    """(batch, 16000) waveform tensor -> hidden states (batch, 40, 256), or the last state (batch, 256).

    `unroll=True` builds the TFLite form (`UnrolledBiLSTM`) with the same weights in the same order.
    """
    x = keras.layers.Reshape((params.wave_frames, params.wave_frame_length), name="wave_frames")(wave)
    if unroll:
        x = UnrolledBiLSTM(params.lstm_units, return_sequences=True, name="wave_bilstm_1")(x)
        return UnrolledBiLSTM(params.lstm_units, return_sequences=sequences, name="wave_bilstm_2")(x)
    lstm = keras.layers.LSTM
    x = keras.layers.Bidirectional(lstm(params.lstm_units, return_sequences=True), name="wave_bilstm_1")(x)
    return keras.layers.Bidirectional(lstm(params.lstm_units, return_sequences=sequences), name="wave_bilstm_2")(x)
