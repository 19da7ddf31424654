"""Everyday sound events for the FSD50K stand-in (hands, steps, breath, water, weather, machines).

Built from the same primitives as the ASMR triggers; each renderer draws its own character and
returns n mono samples at `sr`.
"""

from __future__ import annotations

import numpy as np

from asmr_corpus import sources as S
from asmr_corpus import triggers, voice


def _sparse(rng, n, sr, rate, kernels, spread=0.3):
    """Events at a jittered steady `rate` per second, each with one of `kernels`."""
    period = sr / rate
    count = max(1, int(n / period))
    times = (np.arange(count) * period + rng.uniform(0, period, count) * 0.3 + rng.uniform(0, period * 0.5))
    times = times[times < n].astype(np.int64)
    amps = rng.lognormal(0.0, spread, len(times)).astype(np.float32)
    return S.impulse_texture(n, times, amps, kernels, rng.integers(0, len(kernels), len(times)))


def _band_burst(rng, sr, seconds, decay, lo, hi):
    burst = S.decaying_noise(rng, sr, seconds, decay)
    return S.fft_filter(burst, sr, lambda f: S.highpass(f, lo, 2) * S.lowpass(f, hi, 2))


def finger_snapping(rng, n, sr):
    kernels = [_band_burst(rng, sr, 0.04, rng.uniform(0.002, 0.006), 1200, 5000)
               + S.modal_kernel(rng, sr, np.array([rng.uniform(1500, 3000)]), np.array([0.01]), np.array([0.5]), 0.04)
               for _ in range(3)]
    return _sparse(rng, n, sr, rng.uniform(0.8, 2.5), kernels)


def clapping(rng, n, sr):
    kernels = [_band_burst(rng, sr, 0.08, rng.uniform(0.006, 0.02), 500, rng.uniform(2500, 6000)) for _ in range(4)]
    return _sparse(rng, n, sr, rng.uniform(2.0, 6.0), kernels, spread=0.2)


def footsteps(rng, n, sr):
    thumps = [S.modal_kernel(rng, sr, rng.uniform(50, 180, 2), np.array([0.03, 0.02]), np.array([1.0, 0.5]), 0.2)
              + _band_burst(rng, sr, 0.2, rng.uniform(0.01, 0.05), 300, 4000) * rng.uniform(0.1, 0.6)
              for _ in range(4)]
    return _sparse(rng, n, sr, rng.uniform(1.4, 2.2), thumps, spread=0.25)


def breathing(rng, n, sr):
    frames = S.n_frames(n)
    t = S.frame_times(frames, sr)
    rate = rng.uniform(0.2, 0.4)
    cycle = np.maximum(np.sin(2 * np.pi * rate * t + rng.uniform(0, 6.3)), 0) ** 1.5
    cycle += 0.6 * np.maximum(-np.sin(2 * np.pi * rate * t), 0) ** 2
    freqs = S.bin_freqs(sr)
    colour = S.resonance(freqs, rng.uniform(500, 900), 400) * S.resonance(freqs, rng.uniform(1200, 2200), 600)
    colour *= S.highpass(freqs, 200.0, 2)
    return S.shaped_noise(rng, (cycle[:, None] * colour[None, :]).astype(np.float32), n)


def cough(rng, n, sr):
    speaker = voice.random_speaker(rng, str(rng.choice(["male", "female"])))
    out = np.zeros(n, np.float32)
    t = int(rng.uniform(0.0, 0.3) * sr)
    while t < n:
        bark = voice.utterance(rng, speaker, [[("h", str(rng.choice(["ah", "uh", "a"])))]], sr, whisper=False)
        burst = _band_burst(rng, sr, 0.25, 0.06, 300, 6000) * 3.0
        bark = bark[: int(0.35 * sr)]
        bark[: len(burst)] += burst[: len(bark)]
        seg = out[t : t + len(bark)]
        seg += bark[: len(seg)] * np.exp(-np.arange(len(seg), dtype=np.float32) / (0.15 * sr))
        t += int(rng.uniform(0.35, 1.2) * sr)
    return out


def typing(rng, n, sr):
    return triggers.tapping(rng, n, sr, "plastic", nails=0.9, tempo=(5.0, 9.0), group=(4, 20))


def glass_clink(rng, n, sr):
    return triggers.tapping(rng, n, sr, "glass", nails=1.0, tempo=(1.0, 4.0), group=(1, 3))


def bell(rng, n, sr):
    lo, hi = rng.uniform(300, 900), rng.uniform(2000, 6000)
    k = 8
    freqs = np.exp(rng.uniform(np.log(lo), np.log(hi), k))
    strike = S.modal_kernel(rng, sr, freqs, rng.uniform(0.6, 2.5, k), rng.lognormal(0, 0.5, k), 3.0)
    return _sparse(rng, n, sr, rng.uniform(0.3, 1.0), [strike], spread=0.2)


def keys_jangling(rng, n, sr):
    env = triggers.envelope(rng, n, sr, (1.5, 4.0), (0.3, 0.7), attack=0.2)
    peak = rng.uniform(150, 500)
    times = S.poisson_times(rng, env * peak, n, peak, sr)
    kernels = [k[: int(0.3 * sr)] for k in triggers.material_kernels(rng, sr, "metal", variants=4)]
    amps = (rng.lognormal(0.0, 0.6, len(times)) * env[times // S.HOP]).astype(np.float32)
    return S.impulse_texture(n, times, amps, kernels, rng.integers(0, 4, len(times)))


def drip(rng, n, sr):
    steady = np.ones(S.n_frames(n), np.float32)
    return triggers.bubbles(rng, n, sr, steady, rng.uniform(0.8, 4.0), (700, 3000), (0.005, 0.02))


def pour(rng, n, sr):
    frames = S.n_frames(n)
    flow = np.clip(1.0 + S.smooth_random(rng, frames, 2.0 * S.HOP / sr, 0.3), 0.2, 2.0)
    pops = triggers.bubbles(rng, n, sr, flow, rng.uniform(80, 300), (300, 2500), (0.002, 0.01))
    colour = S.resonance(S.bin_freqs(sr), rng.uniform(400, 1500), 900) * S.highpass(S.bin_freqs(sr), 150.0, 2)
    stream = S.shaped_noise(rng, (flow[:, None] * colour[None, :]).astype(np.float32), n)
    return S.normalise_rms(pops) + S.normalise_rms(stream) * rng.uniform(0.3, 1.0)


def rain(rng, n, sr):
    frames = S.n_frames(n)
    steady = np.ones(frames, np.float32)
    drops = triggers.bubbles(rng, n, sr, steady, rng.uniform(100, 600), (1500, 6000), (0.001, 0.004))
    colour = S.tilt(S.bin_freqs(sr), rng.uniform(-3.0, 0.0)) * S.highpass(S.bin_freqs(sr), 300.0, 2)
    hiss = S.shaped_noise(rng, np.broadcast_to(colour[None, :], (frames, len(colour))).astype(np.float32), n)
    return S.normalise_rms(drops) + S.normalise_rms(hiss) * rng.uniform(0.5, 1.5)


def wind(rng, n, sr):
    frames = S.n_frames(n)
    gust = np.exp(S.smooth_random(rng, frames, 0.3 * S.HOP / sr, 0.7)).astype(np.float32)
    freqs = S.bin_freqs(sr)
    whistle = S.smooth_random(rng, frames, 0.2 * S.HOP / sr, 0.3)
    centre = rng.uniform(300, 900) * np.exp(whistle)[:, None]
    colour = S.lowpass(freqs, rng.uniform(400, 1200), 2)[None, :] + 0.5 * S.resonance(freqs, centre, 150)
    return S.shaped_noise(rng, (gust[:, None] * colour).astype(np.float32), n)


def idling(rng, n, sr):
    firing = rng.uniform(18, 45)
    phase = np.cumsum(np.full(n, firing / sr, np.float32) * (1 + 0.02 * S.to_samples(
        S.smooth_random(rng, S.n_frames(n), 2 * S.HOP / sr), n)))
    pulses = np.zeros(n, np.float32)
    pulses[np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1] = 1.0
    body = S.modal_kernel(rng, sr, rng.uniform(60, 400, 4), rng.uniform(0.01, 0.05, 4), rng.lognormal(0, 0.4, 4), 0.2)
    engine = S.impulse_texture(n, np.flatnonzero(pulses), np.ones(int(pulses.sum()), np.float32), [body],
                               np.zeros(int(pulses.sum()), int))
    frames = S.n_frames(n)
    rumble = S.shaped_noise(rng, np.broadcast_to(S.lowpass(S.bin_freqs(sr), 800.0, 2)[None, :],
                                                 (frames, S.N_FFT // 2 + 1)).astype(np.float32), n)
    return S.normalise_rms(engine) + 0.3 * S.normalise_rms(rumble)
