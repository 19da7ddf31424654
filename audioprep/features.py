"""Feature front ends in numpy, batched over a leading clip axis (no TensorFlow: every CLI imports this).

Lin's clip-mean MFCC vector runs as a numpy/scipy kernel over cache-sized tiles of clips on every
core (`audioprep.tiles`), and DeepASMR's log-mel slices use librosa over whole arrays. LEAN's
YAMNet log-mel is not here: it runs inside the model's graph (`lean.front_end`).
"""

from __future__ import annotations

import functools

import librosa
import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from audioprep.params import MelSliceParams, MfccParams
from audioprep.segment import fixed_clips
from audioprep.tiles import map_tiles


def _as_batch(clips) -> np.ndarray:
    clips = np.asarray(clips, dtype=np.float32)
    return clips[None] if clips.ndim == 1 else clips


@functools.lru_cache(maxsize=8)
def mfcc_constants(params: MfccParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    window, mel, dct = mfcc_constants(params)
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
