"""LEAN's left channel: the raw 1 s waveform as 40 frames of 25 ms, read by two Bidirectional LSTM(128)."""

from __future__ import annotations

import keras

from lean.params import LeanParams


def wave_encoder(wave, params: LeanParams = LeanParams(), sequences: bool = True, unroll: bool = False):
    """(batch, 16000) waveform tensor -> hidden states (batch, 40, 256), or the last state (batch, 256).

    `unroll=True` writes the 40 steps out as plain ops: the only form the TFLite converter turns
    into builtin ops at any batch size and that full-int8 calibration accepts.
    """
    x = keras.layers.Reshape((params.wave_frames, params.wave_frame_length), name="wave_frames")(wave)
    lstm = dict(units=params.lstm_units, unroll=unroll)
    x = keras.layers.Bidirectional(keras.layers.LSTM(return_sequences=True, **lstm), name="wave_bilstm_1")(x)
    return keras.layers.Bidirectional(keras.layers.LSTM(return_sequences=sequences, **lstm), name="wave_bilstm_2")(x)
