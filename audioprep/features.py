"""Feature front ends, batched over a leading clip axis.

Lin's clip-mean MFCC vector and YAMNet's log-mel patches run as numpy/scipy kernels over
cache-sized tiles of clips on every core (`audioprep.tiles`), and DeepASMR's log-mel slices use
librosa over whole arrays. Inside models, YAMNet's log-mel is a TensorFlow graph so the same
front end serves training, SavedModel and TFLite export (the converter lowers its STFT to the
builtin RFFT2D); the batched patches use its window and mel matrix and are tested against it.
"""

from __future__ import annotations

import functools

import keras
import librosa
import numpy as np
import scipy.fft
import tensorflow as tf
from numpy.lib.stride_tricks import sliding_window_view

from audioprep.params import MelSliceParams, MfccParams, WaveFrameParams, YamnetParams
from audioprep.segment import fixed_clips
from audioprep.tiles import map_tiles


def _as_batch(clips) -> np.ndarray:
    clips = np.asarray(clips, dtype=np.float32)
    return clips[None] if clips.ndim == 1 else clips


@functools.lru_cache(maxsize=8)
def _mfcc_constants(params: MfccParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """librosa's Hann window, mel filterbank (frequencies x mels) and orthonormal DCT-II (mels x MFCCs)."""
    window = librosa.filters.get_window("hann", params.n_fft, fftbins=True).astype(np.float32)
    mel = librosa.filters.mel(sr=params.sample_rate, n_fft=params.n_fft, n_mels=params.n_mels).T
    dct = scipy.fft.dct(np.eye(params.n_mels), type=2, norm="ortho", axis=0)[: params.n_mfcc].T
    return window, mel.astype(np.float32), dct.astype(np.float32)


def _power_spectra(frames: np.ndarray, window: np.ndarray, fft_length: int) -> np.ndarray:
    """|rfft(frame * window)|^2 over the last axis, in float32."""
    spectra = scipy.fft.rfft(frames * window, n=fft_length, axis=-1)
    power = np.square(spectra.real)
    power += np.square(spectra.imag)
    return power


def _mfcc_mean_tile(clips: np.ndarray, params: MfccParams) -> np.ndarray:
    window, mel, dct = _mfcc_constants(params)
    half = params.n_fft // 2
    padded = np.pad(clips, [(0, 0), (half, half)])
    frames = sliding_window_view(padded, params.n_fft, axis=-1)[:, :: params.hop_length]
    mel_power = np.maximum(_power_spectra(frames, window, params.n_fft) @ mel, 1e-10)
    db = 10.0 * np.log10(mel_power)
    db = np.maximum(db, db.max(axis=(1, 2), keepdims=True) - 80.0)
    return db.mean(axis=1) @ dct  # the DCT is linear: mean first, then transform


def mfcc_mean(clips, params: MfccParams = MfccParams()) -> np.ndarray:
    """(k, n) clips at params.sample_rate -> (k, n_mfcc): MFCCs averaged over time (Lin 2024).

    The same numbers as `librosa.feature.mfcc(...).mean(axis=1)` clip by clip (centred frames,
    power mel, dB with an 80 dB floor under each clip's own peak, DCT-II), computed over
    cache-sized tiles of the batch on every core (`audioprep.tiles`).
    """
    clips = _as_batch(clips)
    frames = 1 + clips.shape[-1] // params.hop_length
    return map_tiles(functools.partial(_mfcc_mean_tile, params=params), clips, frames * params.n_fft * 4)


def mel_basis(params: MelSliceParams = MelSliceParams()) -> np.ndarray:
    """The (n_mels, n_fft // 2 + 1) filterbank shared by `log_mel` and its inversion."""
    return librosa.filters.mel(
        sr=params.sample_rate, n_fft=params.n_fft, n_mels=params.n_mels, fmin=params.fmin, fmax=params.fmax
    )


def log_mel(clips, params: MelSliceParams = MelSliceParams()) -> np.ndarray:
    """(k, n) clips -> (k, frames, n_mels) log mel power (DeepASMR slices; no centre padding)."""
    clips = _as_batch(clips)
    spec = np.abs(librosa.stft(clips, n_fft=params.n_fft, hop_length=params.hop_length, center=False)) ** 2
    mel = np.einsum("mf,kft->ktm", mel_basis(params), spec, optimize=True)
    return np.log(mel + params.log_floor).astype(np.float32)


def mel_slices(audio: np.ndarray, params: MelSliceParams = MelSliceParams(), hop: int | None = None) -> np.ndarray:
    """Cut a mono recording into ~1 s slices and return their log-mels, (k, frames, n_mels)."""
    clips = fixed_clips(np.asarray(audio, dtype=np.float32), params.slice_samples, hop)
    if len(clips) == 0:
        return np.zeros((0, params.frames, params.n_mels), dtype=np.float32)
    return log_mel(clips, params)


def yamnet_log_mel(waveforms, params: YamnetParams = YamnetParams()) -> tf.Tensor:
    """(k, n) 16 kHz waveforms -> (k, frames, 64) log-mel, YAMNet's front end in TensorFlow ops.

    The same graph exports to TFLite builtins (tf.signal.stft becomes RFFT2D + COMPLEX_ABS), so a
    trained model and its phone twin share one front end.
    """
    waveforms = tf.convert_to_tensor(waveforms, dtype=tf.float32)
    if waveforms.shape.rank == 1:
        waveforms = waveforms[None]
    magnitude = tf.abs(tf.signal.stft(waveforms, params.window_samples, params.hop_samples, fft_length=params.fft_length))
    return tf.math.log(tf.matmul(magnitude, _yamnet_mel_matrix(params)) + params.log_offset)


def _yamnet_mel_matrix(params: YamnetParams) -> tf.Tensor:
    """(fft_length // 2 + 1, mel_bands) HTK-mel weights, as YAMNet's own front end builds them."""
    return tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=params.mel_bands,
        num_spectrogram_bins=params.fft_length // 2 + 1,
        sample_rate=params.sample_rate,
        lower_edge_hertz=params.mel_min_hz,
        upper_edge_hertz=params.mel_max_hz,
    )


@functools.lru_cache(maxsize=8)
def _yamnet_constants(params: YamnetParams) -> tuple[np.ndarray, np.ndarray]:
    """The window and mel matrix of `yamnet_log_mel` (tf.signal.stft's periodic Hann), as numpy."""
    return tf.signal.hann_window(params.window_samples).numpy(), _yamnet_mel_matrix(params).numpy()


def _yamnet_patch_tile(waveforms: np.ndarray, params: YamnetParams) -> np.ndarray:
    window, matrix = _yamnet_constants(params)
    frames = sliding_window_view(waveforms, params.window_samples, axis=-1)[:, :: params.hop_samples]
    log_mel = np.log(np.sqrt(_power_spectra(frames, window, params.fft_length)) @ matrix + params.log_offset)
    patches = sliding_window_view(log_mel, params.patch_frames, axis=1)[:, :: params.patch_hop_frames]
    return np.ascontiguousarray(patches.transpose(0, 1, 3, 2))


def yamnet_patches(waveforms, params: YamnetParams = YamnetParams()) -> np.ndarray:
    """(k, n) waveforms -> (k, patches, 96, 64): log-mel framed into 0.96 s patches with 0.48 s hop.

    For feature extraction over many clips: the numbers of `yamnet_log_mel` (same window and mel
    matrix), computed over cache-sized tiles on every core (`audioprep.tiles`); models keep the
    TensorFlow graph inside, which Keras compiles and TFLite converts.
    """
    waveforms = _as_batch(waveforms)
    frames = params.frames(waveforms.shape[-1])
    if frames < params.patch_frames:
        return np.zeros((len(waveforms), 0, params.patch_frames, params.mel_bands), np.float32)
    tile = functools.partial(_yamnet_patch_tile, params=params)
    return map_tiles(tile, waveforms, frames * params.fft_length * 4)


def wave_frames(waveforms, params: WaveFrameParams = WaveFrameParams()) -> np.ndarray:
    """(k, 16000) one-second waveforms -> (k, 40, 400) non-overlapping 25 ms frames (LEAN's Wave Encoder)."""
    waveforms = _as_batch(waveforms)
    need = params.frames * params.frame_length
    if waveforms.shape[-1] != need:
        raise ValueError(f"wave_frames needs {need} samples per clip, got {waveforms.shape[-1]}")
    return waveforms.reshape(len(waveforms), params.frames, params.frame_length)


@keras.saving.register_keras_serializable(package="audioprep")
class YamnetLogMel(keras.layers.Layer):
    """YAMNet's log-mel front end as a Keras layer, so exported models take raw waveforms."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.params = YamnetParams()

    def call(self, waveforms):
        return yamnet_log_mel(waveforms, self.params)

    def compute_output_shape(self, input_shape):
        n = input_shape[-1]
        return (input_shape[0], None if n is None else self.params.frames(n), self.params.mel_bands)

    @classmethod
    def from_config(cls, config):
        """Accept models saved by earlier versions, whose config still carries a `tflite_compatible` flag."""
        config = dict(config)
        config.pop("tflite_compatible", None)
        return cls(**config)
