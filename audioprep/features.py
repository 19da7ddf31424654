"""Feature front ends in numpy, batched over a leading clip axis (no TensorFlow: every CLI imports this).

Lin's clip-mean MFCC vector runs as a numpy/scipy kernel over cache-sized tiles of clips on every
core (`audioprep.tiles`), and DeepASMR's log-mel slices as one STFT over whole arrays. Both use librosa's
constants (`audioprep.filterbank`) without importing librosa. LEAN's YAMNet log-mel is not here: it runs
inside the model's graph (`lean.front_end`).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from audioprep.filterbank import hann, slaney_mel
from audioprep.params import MelSliceParams, MfccParams
from audioprep.segment import fixed_clips
from audioprep.tiles import map_tiles


def _as_batch(clips) -> np.ndarray:
    clips = np.asarray(clips, dtype=np.float32)
    return clips[None] if clips.ndim == 1 else clips


@functools.lru_cache(maxsize=8)
def mfcc_constants(params: MfccParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """librosa's Hann window, mel filterbank (frequencies x mels) and orthonormal DCT-II (mels x MFCCs)."""
    mel = slaney_mel(params.sample_rate, params.n_fft, params.n_mels).T
    dct = scipy.fft.dct(np.eye(params.n_mels), type=2, norm="ortho", axis=0)[: params.n_mfcc].T
    return hann(params.n_fft), mel, dct.astype(np.float32)


MEL_GROUP = 8  # mel bands per block of the banded product: narrow enough to skip most zero weights


@functools.lru_cache(maxsize=8)
def mel_blocks(params: MfccParams) -> tuple[tuple[int, int, int, int, np.ndarray], ...]:
    """The mel filterbank as blocks (first band, end band, first bin, end bin, weights).

    Each triangular filter covers a few frequency bins, so a dense (frames x bins) @ (bins x mels)
    product is mostly multiplications by zero; MEL_GROUP bands at a time over only the bins they
    cover gives the same sums for a fraction of the work.
    """
    _, mel, _ = mfcc_constants(params)
    blocks = []
    for first in range(0, mel.shape[1], MEL_GROUP):
        end = min(first + MEL_GROUP, mel.shape[1])
        covered = np.flatnonzero(mel[:, first:end].any(axis=1))
        lo, hi = (covered[0], covered[-1] + 1) if len(covered) else (0, 0)
        blocks.append((first, end, lo, hi, np.ascontiguousarray(mel[lo:hi, first:end])))
    return tuple(blocks)


def _mel_power(frames: np.ndarray, params: MfccParams) -> np.ndarray:
    """(frames, n_fft) frames -> (frames, n_mels) mel power: |rfft|^2 through the filterbank's blocks."""
    window, mel, _ = mfcc_constants(params)
    spectra = scipy.fft.rfft(frames * window, n=params.n_fft, axis=-1)
    power = np.square(spectra.real)
    power += np.square(spectra.imag)
    out = np.empty(power.shape[:-1] + (mel.shape[1],), np.float32)
    for first, end, lo, hi, weights in mel_blocks(params):
        out[:, first:end] = power[:, lo:hi] @ weights
    return out


FRAME_CHUNK = 128  # frames per step: its ~1 MB buffers stay cache-warm and are reused instead of page-faulted afresh


def _mfcc_mean_tile(clips: np.ndarray, params: MfccParams) -> np.ndarray:
    _, _, dct = mfcc_constants(params)
    half = params.n_fft // 2
    padded = np.pad(clips, [(0, 0), (half, half)])
    frames = sliding_window_view(padded, params.n_fft, axis=-1)[:, :: params.hop_length]
    mel_power = np.empty(frames.shape[:2] + (params.n_mels,), np.float32)
    for clip in range(len(clips)):
        for start in range(0, frames.shape[1], FRAME_CHUNK):
            mel_power[clip, start : start + FRAME_CHUNK] = _mel_power(frames[clip, start : start + FRAME_CHUNK], params)
    db = np.log(np.maximum(mel_power, 1e-10, out=mel_power), out=mel_power)
    db *= 10.0 / np.log(10.0)  # dB; numpy's float32 log is vectorised, its log10 is not
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
    return slaney_mel(params.sample_rate, params.n_fft, params.n_mels, params.fmin, params.fmax)


def log_mel(clips, params: MelSliceParams = MelSliceParams()) -> np.ndarray:
    """(k, n) clips -> (k, frames, n_mels) log mel power (DeepASMR slices; no centre padding)."""
    clips = _as_batch(clips)
    frames = sliding_window_view(clips, params.n_fft, axis=-1)[:, :: params.hop_length]
    spectra = scipy.fft.rfft(frames * hann(params.n_fft), axis=-1)
    power = np.square(spectra.real)
    power += np.square(spectra.imag)
    mel = power @ mel_basis(params).T
    return np.log(mel + params.log_floor).astype(np.float32)


def mel_slices(audio: np.ndarray, params: MelSliceParams = MelSliceParams(), hop: int | None = None) -> np.ndarray:
    """Cut a mono recording into ~1 s slices and return their log-mels, (k, frames, n_mels)."""
    clips = fixed_clips(np.asarray(audio, dtype=np.float32), params.slice_samples, hop)
    if len(clips) == 0:
        return np.zeros((0, params.frames, params.n_mels), dtype=np.float32)
    return log_mel(clips, params)
