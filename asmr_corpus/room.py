"""Recording chain of one session: microphone colouring, level, room tone and (binaural) stereo placement.

Every class of every layout goes through the same chain with parameters drawn from the same
ranges, so loudness, noise floor and microphone character never give a class away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asmr_corpus import sources as S


@dataclass(frozen=True)
class Chain:
    """Level and noise-floor ranges (dBFS) of one corpus; sessions draw uniformly inside them."""

    level_db: tuple[float, float] = (-38.0, -18.0)  # active-signal RMS, +-10 dB around -28
    floor_db: tuple[float, float] = (-72.0, -50.0)  # room tone RMS


ASMR_CHAIN = Chain()


def microphone(rng: np.random.Generator):
    """A random microphone + preamp colouring as f(freqs): low cut, tilt, a few broad peaks and dips."""
    low_cut = rng.uniform(30.0, 160.0)
    slope = rng.uniform(-0.75, 0.75)
    peaks = [(np.exp(rng.uniform(np.log(150), np.log(9000))), rng.uniform(0.3, 1.2), rng.uniform(-4, 4))
             for _ in range(rng.integers(1, 4))]
    air = rng.uniform(6000, 10500)

    def response(f):
        gain = S.highpass(f, low_cut, 2) * S.tilt(f, slope) * S.lowpass(f, air, 1)
        for centre, width, g in peaks:
            gain = gain * S.peak(f, centre, width, g)
        return gain

    return response


def active_rms(x: np.ndarray, sr: int) -> float:
    """RMS over the 0.4 s blocks within 25 dB of the loudest (pauses do not dilute the level)."""
    block = int(0.4 * sr)
    m = len(x) // block
    if m == 0:
        return float(np.sqrt(np.mean(np.square(x)) + 1e-20))
    power = np.square(x[: m * block]).reshape(m, block).mean(axis=1)
    loud = power[power >= power.max() * 10 ** -2.5]
    return float(np.sqrt(loud.mean() + 1e-20))


def room_tone(rng: np.random.Generator, n: int, sr: int, channels: int) -> np.ndarray:
    """Steady background: coloured noise (HVAC, preamp hiss) with an optional mains hum, unit RMS."""
    slope, centre, boost = rng.uniform(-5.0, -1.0), rng.uniform(100, 600), rng.uniform(0, 8)

    def colour(f):
        return S.tilt(f, slope, 500.0) * S.highpass(f, 25.0, 2) * S.peak(f, centre, 1.0, boost)

    sway = S.to_samples(np.exp(S.smooth_random(rng, S.n_frames(n), 0.01, 0.15)), n)
    tone = (S.fft_filter(S.white(rng, n), sr, colour) * sway)[None, :]
    if channels == 2:  # a second, partly correlated channel: the same noise mixed with a distant stretch of itself
        tone = np.concatenate([tone, 0.6 * tone + 0.8 * np.roll(tone, n // 2 + int(rng.integers(sr)), axis=1)])
    if rng.random() < 0.4:
        # Mains hum (50 or 60 Hz and two harmonics): one second holds whole cycles, so tile it.
        t = np.arange(sr, dtype=np.float32) / sr
        mains = 50.0 if rng.random() < 0.5 else 60.0
        hum = sum(np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 6.3)) / h for h in (1, 2, 3))
        tone = tone / np.sqrt(np.mean(np.square(tone))) + np.resize(hum, n).astype(np.float32) * rng.uniform(0.1, 0.6)
    return tone / np.sqrt(np.mean(np.square(tone)) + 1e-20)


def binaural(rng: np.random.Generator, x: np.ndarray, sr: int, moving: float) -> np.ndarray:
    """Place mono `x` between the ears: level and time differences that drift (`moving` = sweeps per s)."""
    n = len(x)
    centre = rng.uniform(-0.8, 0.8)
    pan = S.to_samples(np.clip(centre + S.smooth_random(rng, S.n_frames(n), moving * S.HOP / sr, 0.5), -1, 1), n)
    angle = (pan + 1) * np.pi / 4
    delay = int(abs(centre) * 0.0006 * sr)
    left, right = np.cos(angle) * x, np.sin(angle) * x
    if delay:
        far = right if centre < 0 else left
        far[delay:] = far[:-delay].copy()
        far[:delay] = 0.0
    return np.stack([left, right]).astype(np.float32) * np.float32(np.sqrt(2.0))


def master(rng: np.random.Generator, x: np.ndarray, sr: int, chain: Chain = ASMR_CHAIN, stereo: bool = False,
           moving: float = 0.1, level_db: float | None = None, mic=None) -> np.ndarray:
    """Microphone colour (`mic` response, else a random one), session level, room tone; (n,) mono or
    (2, n) binaural stereo."""
    x = S.fft_filter(x, sr, mic or microphone(rng))
    level = rng.uniform(*chain.level_db) if level_db is None else level_db
    x = x * np.float32(S.db(level) / max(active_rms(x, sr), 1e-12))
    if stereo:
        x = binaural(rng, x, sr, moving)
    floor = room_tone(rng, len(x.T), sr, 2 if stereo else 1) * np.float32(S.db(rng.uniform(*chain.floor_db)))
    return soft_limit(x + (floor if stereo else floor[0]))


def soft_limit(x: np.ndarray, knee: float = 0.5) -> np.ndarray:
    """Peaks above `knee` are bent smoothly under full scale (a preamp limiter), so a loud snap or tap
    does not pull the whole session's level down and impulsive classes keep the common level range."""
    over = np.abs(x) > knee
    if over.any():
        head = 0.99 - knee
        x = x.copy()
        x[over] = np.sign(x[over]) * (knee + head * np.tanh((np.abs(x[over]) - knee) / head))
    return x.astype(np.float32, copy=False)
