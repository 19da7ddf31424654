"""Log-mel -> waveform by Griffin-Lim, batched over clips in TensorFlow (the generators' audio output).

The mel filterbank is undone with its pseudo-inverse (clipped at zero) rather than librosa's
per-clip NNLS, and all clips share one STFT/ISTFT graph, which is what makes it fast.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from audioprep.features import mel_basis
from audioprep.params import MelSliceParams


def mel_to_magnitude(log_mels: np.ndarray, params: MelSliceParams = MelSliceParams()) -> np.ndarray:
    """(k, frames, n_mels) log mel power -> (k, frames, n_fft // 2 + 1) linear STFT magnitude."""
    power = np.exp(np.asarray(log_mels, dtype=np.float32)) - params.log_floor
    inverse = np.linalg.pinv(mel_basis(params)).astype(np.float32)
    linear = np.maximum(np.einsum("ktm,fm->ktf", np.maximum(power, 0.0), inverse, optimize=True), 0.0)
    return np.sqrt(linear).astype(np.float32)


@tf.function(reduce_retracing=True)
def _griffin_lim(magnitude, n_fft: int, hop: int, n_iter: int, seed: int):
    mag = tf.cast(magnitude, tf.complex64)
    window = tf.signal.inverse_stft_window_fn(hop)
    phase = tf.random.stateless_uniform(tf.shape(magnitude), seed=[seed, 0], maxval=2.0 * np.pi)
    spec = mag * tf.exp(tf.complex(tf.zeros_like(phase), phase))
    for _ in tf.range(n_iter):
        audio = tf.signal.inverse_stft(spec, n_fft, hop, n_fft, window_fn=window)
        rebuilt = tf.signal.stft(audio, n_fft, hop, n_fft)
        spec = mag * tf.exp(tf.complex(tf.zeros_like(magnitude), tf.math.angle(rebuilt)))
    return tf.signal.inverse_stft(spec, n_fft, hop, n_fft, window_fn=window)


def mel_to_audio(log_mels, params: MelSliceParams = MelSliceParams(), n_iter: int = 32, seed: int = 0) -> np.ndarray:
    """(k, frames, n_mels) or (frames, n_mels) log-mels -> (k, samples) float32 audio in [-1, 1]."""
    log_mels = np.asarray(log_mels, dtype=np.float32)
    single = log_mels.ndim == 2
    if single:
        log_mels = log_mels[None]
    magnitude = mel_to_magnitude(log_mels, params)
    audio = _griffin_lim(tf.constant(magnitude), params.n_fft, params.hop_length, tf.constant(n_iter), seed).numpy()
    audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
    return audio[0] if single else audio
