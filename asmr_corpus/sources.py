"""Sound primitives every layout shares: STFT-domain shaping, impulse textures, modal resonators, envelopes.

Everything is vectorised numpy in float32, so that hours of audio render in a minute or two:
noise is drawn directly as random STFT frames under a spectral envelope (one inverse FFT), and
sparse events (grains, taps, clicks) are impulse trains convolved with a handful of kernels.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft
from scipy.signal import oaconvolve

N_FFT = 512
HOP = N_FFT // 2
# Sine analysis x sine synthesis windows at a half-frame hop overlap-add to exactly 1.
_WINDOW = np.sin(np.pi * (np.arange(N_FFT) + 0.5) / N_FFT).astype(np.float32)


def db(value) -> np.ndarray:
    """Decibels to linear amplitude."""
    return np.power(10.0, np.asarray(value) / 20.0)


def bin_freqs(sr: int) -> np.ndarray:
    return np.fft.rfftfreq(N_FFT, 1.0 / sr).astype(np.float32)


def n_frames(n: int) -> int:
    """Frames covering n samples; frame f is centred on sample f * HOP."""
    return n // HOP + 2


def frame_times(frames: int, sr: int) -> np.ndarray:
    return (np.arange(frames) * HOP / sr).astype(np.float32)


def stft(x: np.ndarray) -> np.ndarray:
    """(n,) -> (frames, bins) complex64, sine-windowed frames centred every HOP samples."""
    frames = n_frames(len(x))
    padded = np.zeros((frames + 1) * HOP, np.float32)
    padded[HOP : HOP + len(x)] = x
    view = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:frames]
    return sfft.rfft(view * _WINDOW, axis=1).astype(np.complex64, copy=False)


def istft(spec: np.ndarray, n: int) -> np.ndarray:
    """Weighted overlap-add inverse of `stft`, trimmed to n samples."""
    frames = spec.shape[0]
    blocks = (sfft.irfft(spec, n=N_FFT, axis=1).astype(np.float32) * _WINDOW).reshape(frames, 2, HOP)
    out = np.zeros((frames + 1, HOP), np.float32)
    out[:frames] += blocks[:, 0]
    out[1:] += blocks[:, 1]
    return out.reshape(-1)[HOP : HOP + n]


# A fixed table of complex Gaussian values: indexing it with random bytes draws complex Gaussian
# STFT coefficients ~6x faster than standard_normal, and deterministically.
_GAUSS = np.random.default_rng(20201).standard_normal((4096, 2)).astype(np.float32).view(np.complex64)[:, 0]


def complex_noise(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    index = np.frombuffer(rng.bytes(2 * shape[0] * shape[1]), np.uint16) & np.uint16(4095)
    return _GAUSS[index].reshape(shape)


def shaped_noise(rng: np.random.Generator, envelope: np.ndarray, n: int) -> np.ndarray:
    """Noise whose short-time spectrum follows `envelope` (frames, bins) magnitudes."""
    spec = complex_noise(rng, envelope.shape)
    spec *= envelope
    return istft(spec, n)


def filter_signal(x: np.ndarray, envelope: np.ndarray) -> np.ndarray:
    """Time-varying filtering: x's STFT times `envelope` (frames, bins), back to the time domain."""
    spec = stft(x)
    spec *= envelope
    return istft(spec, len(x))


def fft_filter(x: np.ndarray, sr: int, response, taps: int = 512) -> np.ndarray:
    """Static filtering (last axis) by a smooth magnitude response given as f(freqs): a zero-phase
    `taps`-long FIR from frequency sampling (43 Hz resolution at 22.05 kHz), applied by overlap-add
    over 4096-point blocks batched in one FFT call (no full-length padding copies)."""
    if x.ndim == 2:
        return np.stack([fft_filter(channel, sr, response, taps) for channel in x])
    grid = np.fft.rfftfreq(taps, 1.0 / sr)
    fir = np.fft.fftshift(np.fft.irfft(np.asarray(response(grid), np.float64), n=taps)) * np.hanning(taps + 1)[:-1]
    size = 4096
    step = size - taps + 1
    n = len(x)
    count = -(-(n + taps) // step)
    blocks = np.zeros((count, step), np.float32)
    blocks.reshape(-1)[:n] = x
    spec = sfft.rfft(blocks, n=size, axis=1)
    spec *= sfft.rfft(fir, n=size).astype(np.complex64)
    full = sfft.irfft(spec, n=size, axis=1).astype(np.float32)
    out = full[:, :step].copy()
    out[1:, : taps - 1] += full[:-1, step:]
    return out.reshape(-1)[taps // 2 : taps // 2 + n]


def resonance(freqs: np.ndarray, centre, bandwidth) -> np.ndarray:
    """Magnitude of a second-order resonator normalised to 1 at DC (broadcasts over frames)."""
    c2 = np.square(centre)
    return c2 / np.sqrt(np.square(c2 - np.square(freqs)) + np.square(freqs * bandwidth) + 1e-9)


def peak(freqs: np.ndarray, centre, width, gain_db) -> np.ndarray:
    """A bell-shaped boost or cut on a log-frequency axis (width in octaves)."""
    octaves = np.log2(np.maximum(freqs, 1.0) / centre)
    return db(gain_db * np.exp(-0.5 * np.square(octaves / width)))


def tilt(freqs: np.ndarray, db_per_octave, ref: float = 1000.0) -> np.ndarray:
    return db(db_per_octave * np.log2(np.maximum(freqs, 20.0) / ref))


def highpass(freqs: np.ndarray, corner, order: int = 2) -> np.ndarray:
    ratio = np.power(np.maximum(freqs, 1e-3) / corner, order)
    return ratio / np.sqrt(1.0 + np.square(ratio))


def lowpass(freqs: np.ndarray, corner, order: int = 2) -> np.ndarray:
    return 1.0 / np.sqrt(1.0 + np.square(np.power(freqs / corner, order)))


def smooth_random(rng: np.random.Generator, n: int, knots_per_unit: float, depth: float = 1.0) -> np.ndarray:
    """A slow random curve over n points (about `knots_per_unit` changes per point-unit), zero-mean."""
    knots = max(2, int(n * knots_per_unit) + 2)
    values = rng.standard_normal(knots) * depth
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), values).astype(np.float32)


def to_samples(curve: np.ndarray, n: int) -> np.ndarray:
    """A frame-rate control curve (one value per STFT frame) linearly interpolated to n samples."""
    curve = np.asarray(curve, np.float32)
    ramp = np.arange(HOP, dtype=np.float32) / HOP
    steps = curve[:-1, None] + (curve[1:] - curve[:-1])[:, None] * ramp[None, :]
    out = steps.reshape(-1)[:n]
    return out if len(out) == n else np.pad(out, (0, n - len(out)), mode="edge")


def gesture_envelope(
    rng: np.random.Generator, frames: int, sr: int, rate: float, duty: tuple[float, float], attack: float = 0.3
) -> np.ndarray:
    """Repeated gestures (strokes, squeezes, chews) at frame rate: ~`rate` per second, each on for a
    `duty` fraction of its period, rising over `attack` of it. Values in [0, 1]."""
    fps = sr / HOP
    env = np.zeros(frames, np.float32)
    t = rng.uniform(0, 1.0 / rate)
    while t * fps < frames:
        period = rng.gamma(8.0, 1.0 / (8.0 * rate))
        on = int(period * rng.uniform(*duty) * fps) + 2
        start = int(t * fps)
        x = np.linspace(0, 1, on, dtype=np.float32)
        shape = np.minimum(x / max(attack, 1e-3), 1.0) * np.minimum((1.0 - x) / (1.0 - attack + 1e-3) * 1.5, 1.0)
        seg = env[start : start + on]
        seg[:] = np.maximum(seg, shape[: len(seg)] * rng.uniform(0.55, 1.0))
        t += period
    return env


def poisson_times(rng: np.random.Generator, rate_frames: np.ndarray, n: int, max_rate: float, sr: int) -> np.ndarray:
    """Sample indices of events whose rate (per second, one value per frame) follows `rate_frames`."""
    count = rng.poisson(max_rate * n / sr)
    idx = np.sort(rng.integers(0, n, count))
    keep = rng.random(count) * max_rate < rate_frames[idx // HOP]
    return idx[keep]


def impulse_texture(
    n: int, times: np.ndarray, amps: np.ndarray, kernels: list[np.ndarray], choice: np.ndarray
) -> np.ndarray:
    """Sum of kernels placed at `times` (sample indices) with `amps`; event i uses kernels[choice[i]].

    Sparse events are added one by one; dense ones (grains, bristles) by one FFT convolution per kernel.
    """
    out = np.zeros(n, np.float32)
    kernels = [np.asarray(k, np.float32) for k in kernels]
    if len(times) < len(kernels) * n / 200:  # a Python add per event costs less than the convolutions
        for t, a, c in zip(times.tolist(), amps.tolist(), choice.tolist(), strict=True):
            seg = out[t : t + len(kernels[c])]
            seg += a * kernels[c][: len(seg)]
        return out
    for k, kernel in enumerate(kernels):
        sel = choice == k
        if not sel.any():
            continue
        train = np.zeros(n, np.float32)
        np.add.at(train, times[sel], amps[sel])
        out += oaconvolve(train, kernel)[:n].astype(np.float32)
    return out


def decaying_noise(rng: np.random.Generator, sr: int, seconds: float, decay: float) -> np.ndarray:
    """A short noise burst with an exponential decay (grains, clicks, bristle ticks)."""
    m = max(4, int(seconds * sr))
    t = np.arange(m, dtype=np.float32) / sr
    return (rng.standard_normal(m).astype(np.float32) * np.exp(-t / decay)).astype(np.float32)


def modal_kernel(
    rng: np.random.Generator, sr: int, freqs: np.ndarray, decays: np.ndarray, amps: np.ndarray, seconds: float
) -> np.ndarray:
    """Impulse response of a bank of damped sinusoids (a struck object's modes); modes above 0.45 sr
    are left out rather than aliased."""
    keep = freqs < 0.45 * sr
    freqs, decays, amps = freqs[keep], decays[keep], amps[keep]
    m = int(seconds * sr)
    t = np.arange(m, dtype=np.float32)[None, :] / np.float32(sr)
    phases = rng.uniform(0, 2 * np.pi, len(freqs)).astype(np.float32)[:, None]
    rate = (1.0 / decays).astype(np.float32)[:, None]
    omega = (2 * np.pi * freqs).astype(np.float32)[:, None]
    modes = np.exp(-rate * t) * np.sin(omega * t + phases)
    return (np.asarray(amps, np.float32) @ modes).astype(np.float32)


def white(rng: np.random.Generator, n: int) -> np.ndarray:
    """Cheap uniform white noise in [-1, 1) (becomes Gaussian once filtered), from random bytes."""
    return np.frombuffer(rng.bytes(2 * n), np.int16).astype(np.float32) / np.float32(32768.0)


def normalise_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x), dtype=np.float64)))
    return x / rms if rms > 0 else x
