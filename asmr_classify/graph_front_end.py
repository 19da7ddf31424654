"""The classifiers' feature front ends as TensorFlow ops, for exports that take raw waveforms.

Training featurises in numpy (`audioprep.features`: DeepASMR's log-mel slices, Lin's clip-mean
MFCC); an exported model carries the same computation in its graph, with the same constants
(librosa's Hann window, Slaney mel filterbank and orthonormal DCT), built from ops the TFLite
converter lowers to builtins (RFFT2D, COMPLEX_ABS, BATCH_MATMUL, LOG, REDUCE_MAX, MEAN).
Ops run under the name scope FRONT_END, which an int8 export keeps float.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from audioprep.features import mel_basis, mfcc_constants
from audioprep.params import MelSliceParams, MfccParams

FRONT_END = "front_end"
MFCC_POWER_FLOOR = 1e-10  # audioprep.features: power floor before the dB, and its 80 dB range under the peak
MFCC_TOP_DB = 80.0


def _power_spectra(waveforms, n_fft: int, hop: int) -> tf.Tensor:
    """|STFT|^2 of uncentred frames with a periodic Hann window (librosa's 'hann', fftbins=True)."""
    spectra = tf.signal.stft(waveforms, n_fft, hop, fft_length=n_fft, window_fn=tf.signal.hann_window)
    return tf.square(tf.abs(spectra))


def log_mel(waveforms, params: MelSliceParams) -> tf.Tensor:
    """(k, n) -> (k, frames, n_mels), `audioprep.features.log_mel` in graph ops."""
    basis = tf.constant(mel_basis(params).T.astype(np.float32))
    return tf.math.log(tf.matmul(_power_spectra(waveforms, params.n_fft, params.hop_length), basis) + params.log_floor)


def mfcc_mean(waveforms, params: MfccParams) -> tf.Tensor:
    """(k, n) -> (k, n_mfcc), `audioprep.features.mfcc_mean` in graph ops (centred, zero-padded frames)."""
    _, mel, dct = mfcc_constants(params)
    half = params.n_fft // 2
    padded = tf.pad(waveforms, [[0, 0], [half, half]])
    power = tf.maximum(tf.matmul(_power_spectra(padded, params.n_fft, params.hop_length), tf.constant(mel)),
                       MFCC_POWER_FLOOR)
    db = (10.0 / math.log(10.0)) * tf.math.log(power)
    db = tf.maximum(db, tf.reduce_max(db, axis=[1, 2], keepdims=True) - MFCC_TOP_DB)
    return tf.matmul(tf.reduce_mean(db, axis=1), tf.constant(dct))


def features(waveforms, kind: str, sample_rate: int) -> tf.Tensor:
    """Raw windows -> the inputs a classifier of input `kind` was trained on (as `asmr_classify.predict.features`)."""
    with tf.name_scope(FRONT_END):
        if kind == "mel":
            return log_mel(waveforms, MelSliceParams(sample_rate=sample_rate))
        if kind == "mfcc":
            return mfcc_mean(waveforms, MfccParams(sample_rate=sample_rate))[..., None]
        return tf.identity(waveforms)
