"""Mechanical ASMR triggers: granular textures, crackles, taps on resonant materials, strokes, chewing.

Each renderer draws its own session character from `rng` (material modes, grain colour, gesture
rate, density), then renders `n` samples of mono audio: gestures (squeezes, strokes, chews,
tap groups) separated by short pauses. Levels are relative; `room.master` sets the session level.
"""

from __future__ import annotations

import numpy as np

from asmr_corpus import sources as S

# Modal ranges per material: (lowest Hz, highest Hz, mode count range, decay range s, low thump Hz or 0)
MATERIALS = {
    "glass": (1400, 9500, (5, 10), (0.08, 0.45), 0),
    "metal": (700, 10000, (10, 18), (0.2, 0.9), 0),
    "wood": (250, 3200, (8, 14), (0.006, 0.04), 120),
    "plastic": (450, 5500, (6, 12), (0.01, 0.07), 0),
    "cork": (180, 1800, (5, 9), (0.003, 0.012), 90),
    "microphone": (900, 4200, (3, 6), (0.004, 0.02), 70),
    "sponge microphone": (300, 1500, (2, 4), (0.002, 0.008), 55),
    "cardboard": (200, 2600, (6, 10), (0.005, 0.02), 100),
}
HARD_SURFACES = ("glass", "metal", "wood", "plastic", "cardboard")


def activity(rng: np.random.Generator, frames: int, sr: int, on=(3.0, 18.0), off=(0.3, 1.8)) -> np.ndarray:
    """0/1 frame-rate curve (one-frame ramps): stretches of activity separated by pauses."""
    fps = sr / S.HOP
    env = np.zeros(frames, np.float32)
    t = rng.uniform(0.0, 0.4)
    while t * fps < frames:
        length = rng.uniform(*on)
        env[int(t * fps) : int((t + length) * fps)] = 1.0
        t += length + rng.uniform(*off)
    return np.convolve(env, np.ones(2, np.float32) / 2, mode="same")


def envelope(rng, n: int, sr: int, rate, duty, attack: float = 0.3, on=(3.0, 18.0)) -> np.ndarray:
    """Gestures times activity, at frame rate."""
    frames = S.n_frames(n)
    return S.gesture_envelope(rng, frames, sr, rng.uniform(*rate), duty, attack) * activity(rng, frames, sr, on)


def _colour(rng: np.random.Generator, sr: int, centre: tuple[float, float], width: tuple[float, float]):
    """A random band colour: log-Gaussian hump plus a gentle tilt, as f(freqs)."""
    c, w, slope = rng.uniform(*centre), rng.uniform(*width), rng.uniform(-1.0, 1.0)
    return lambda f: np.exp(-0.5 * np.square(np.log2(np.maximum(f, 20.0) / c) / w)) * S.tilt(f, slope)


def _filtered_kernel(kernel: np.ndarray, sr: int, response) -> np.ndarray:
    return S.fft_filter(np.pad(kernel, (0, len(kernel))), sr, response)


def material_kernels(rng: np.random.Generator, sr: int, material: str, variants: int = 4) -> list[np.ndarray]:
    """Impulse responses of one object struck at `variants` places (same modes, different amplitudes)."""
    lo, hi, count, decay, thump = MATERIALS[material]
    k = rng.integers(*count, endpoint=True)
    freqs = np.exp(rng.uniform(np.log(lo), np.log(hi), k)) * rng.uniform(0.85, 1.15)
    decays = np.exp(rng.uniform(np.log(decay[0]), np.log(decay[1]), k)) * (1000.0 / freqs) ** 0.3
    seconds = min(1.0, float(decays.max()) * 4 + 0.01)
    kernels = []
    for _ in range(variants):
        amps = rng.lognormal(0.0, 0.7, k) / np.sqrt(k)
        kernel = S.modal_kernel(rng, sr, freqs, decays, amps, seconds)
        if thump:
            f = thump * rng.uniform(0.7, 1.4)
            kernel += S.modal_kernel(rng, sr, np.array([f]), np.array([0.03]), np.array([rng.uniform(0.5, 2.0)]),
                                     seconds)
        kernels.append(kernel)
    return kernels


def _tap_onsets(rng: np.random.Generator, n: int, sr: int, tempo: float, group: tuple[int, int]) -> np.ndarray:
    """Sample indices of taps in rhythmic groups (tempo in taps/s), with gaps between groups."""
    times, t = [], rng.uniform(0.05, 0.3)
    while t < n / sr:
        for _ in range(rng.integers(*group, endpoint=True)):
            times.append(t)
            t += rng.gamma(20.0, 1.0 / (20.0 * tempo))
        t += rng.uniform(0.15, 0.9)
    return (np.array(times) * sr).astype(np.int64)[np.array(times) * sr < n]


def tapping(rng: np.random.Generator, n: int, sr: int, material: str | None = None, nails: float = 0.6,
            tempo: tuple[float, float] = (4.0, 12.0), group: tuple[int, int] = (3, 14)):
    """Fingertip / fingernail taps on a resonant object (`material` random among hard surfaces if None),
    in groups of `group` taps at `tempo` taps per second."""
    material = material or str(rng.choice(HARD_SURFACES))
    kernels = material_kernels(rng, sr, material)
    onsets = _tap_onsets(rng, n, sr, rng.uniform(*tempo), group)
    amps = rng.lognormal(0.0, 0.35, len(onsets)).astype(np.float32)
    # The fingertip's soft pulse excites the modes; a nail adds its own bright click on top.
    pad = np.hanning(max(3, int(rng.uniform(0.0008, 0.004) * sr))).astype(np.float32)
    click = _filtered_kernel(S.decaying_noise(rng, sr, 0.004, rng.uniform(0.0002, 0.0006)), sr,
                             lambda f: S.highpass(f, rng.uniform(1500, 3500), 2))
    strike = []
    for k in kernels:
        body = np.convolve(k, pad)[: len(k)]
        energy = np.sqrt(np.sum(np.square(body)) / np.sum(np.square(click)))
        body[: len(click)] += (click * np.float32(energy * 1.5 * nails))[: len(body)]
        strike.append(body)
    choice = rng.integers(0, len(kernels), len(onsets))
    return S.impulse_texture(n, onsets, amps, strike, choice)


def granular(rng: np.random.Generator, n: int, sr: int, rate: tuple[float, float], grain_s: tuple[float, float],
             centre: tuple[float, float], gesture_rate: tuple[float, float], duty=(0.5, 0.9), spread: float = 0.6,
             hiss: float = 0.2):
    """Dense grains under gestures: crushing sand, crunching food, bristles (rate in grains/s)."""
    colour = _colour(rng, sr, centre, (0.8, 1.2))
    env = envelope(rng, n, sr, gesture_rate, duty)
    peak = rng.uniform(*rate)
    times = S.poisson_times(rng, env * peak, n, peak, sr)
    kernels = [_filtered_kernel(S.decaying_noise(rng, sr, 0.012, rng.uniform(*grain_s)), sr, colour)
               for _ in range(2)]
    amps = (rng.lognormal(0.0, spread, len(times)) * env[times // S.HOP]).astype(np.float32)
    out = S.impulse_texture(n, times, amps, kernels, rng.integers(0, 2, len(times)))
    out = S.normalise_rms(out)
    if hiss > 0:
        bed = S.shaped_noise(rng, env[:, None] * colour(S.bin_freqs(sr))[None, :].astype(np.float32), n)
        out += S.normalise_rms(bed) * hiss * rng.uniform(0.5, 1.5)
    return out


def crushing_sand(rng, n, sr):
    return granular(rng, n, sr, rate=(250, 1400), grain_s=(0.0004, 0.0025), centre=(1500, 3500),
                    gesture_rate=(0.6, 1.6), spread=0.55, hiss=rng.uniform(0.1, 0.5))


def crinkling(rng, n, sr):
    """Plastic crinkles: sparse, heavy-tailed snaps (tiny high modal pings) in handling bursts, over rustle."""
    env = envelope(rng, n, sr, (0.5, 1.3), (0.4, 0.9), attack=0.15)
    cluster = np.exp(S.smooth_random(rng, len(env), 12.0 * S.HOP / sr, 1.0)).astype(np.float32)
    peak = rng.uniform(60, 250)
    rate = env * cluster * peak
    times = S.poisson_times(rng, rate, n, float(rate.max()) + 1e-3, sr)
    kernels = []
    for _ in range(8):
        k = rng.integers(2, 5)
        freqs = np.exp(rng.uniform(np.log(3000), np.log(10000), k))
        kernels.append(S.modal_kernel(rng, sr, freqs, rng.uniform(0.0008, 0.005, k), rng.lognormal(0, 0.5, k), 0.03)
                       + S.decaying_noise(rng, sr, 0.03, 0.0004) * 0.7)
    amps = (rng.lognormal(0.0, 0.9, len(times)) * env[times // S.HOP]).astype(np.float32)
    out = S.normalise_rms(S.impulse_texture(n, times, amps, kernels, rng.integers(0, 8, len(times))))
    rustle = granular(rng, n, sr, rate=(800, 2500), grain_s=(0.0003, 0.001), centre=(4000, 8000),
                      gesture_rate=(0.5, 1.3), hiss=0.3)
    return out + rustle * rng.uniform(0.3, 0.8)


def bubbles(rng: np.random.Generator, n: int, sr: int, env: np.ndarray, peak: float, freq: tuple[float, float],
            decay: tuple[float, float]):
    """Wet pops: damped sinusoids gliding upwards (Minnaert bubbles), rate env (frame rate) * peak per s."""
    times = S.poisson_times(rng, env * peak, n, peak, sr)
    kernels = []
    for _ in range(8):
        f0, d = np.exp(rng.uniform(np.log(freq[0]), np.log(freq[1]))), rng.uniform(*decay)
        m = int(d * 5 * sr)
        t = np.arange(m, dtype=np.float32) / sr
        glide = f0 * (1 + rng.uniform(0.2, 1.5) * t / (d * 5))
        kernels.append((np.sin(2 * np.pi * np.cumsum(glide) / sr) * np.exp(-t / d)).astype(np.float32))
    amps = (rng.lognormal(0.0, 0.6, len(times)) * env[times // S.HOP]).astype(np.float32)
    return S.impulse_texture(n, times, amps, kernels, rng.integers(0, 8, len(times)))


def slime(rng, n, sr):
    """Stretching slime: slow stretches of low squelch, wet pops and sticky micro-clicks."""
    env = envelope(rng, n, sr, (0.3, 0.9), (0.6, 0.95), attack=0.4)
    pops = S.normalise_rms(bubbles(rng, n, sr, env, rng.uniform(8, 30), (200, 1500), (0.003, 0.012)))
    sticky = granular(rng, n, sr, rate=(40, 400), grain_s=(0.0003, 0.0015), centre=(1500, 6000),
                      gesture_rate=(0.3, 0.9), hiss=0.0)
    squelch_colour = _colour(rng, sr, (300, 800), (0.7, 1.1))(S.bin_freqs(sr))[None, :].astype(np.float32)
    squelch = S.normalise_rms(S.shaped_noise(rng, env[:, None] * squelch_colour, n))
    return pops * rng.uniform(0.5, 1.0) + sticky * rng.uniform(0.2, 0.6) + squelch * rng.uniform(0.5, 1.0)


def brushing(rng, n, sr, material: str | None = None):
    """Brush strokes: dense bristle ticks through a surface, stroke by stroke (mic brushing adds rumble)."""
    env = envelope(rng, n, sr, (0.8, 3.0), (0.5, 0.9), attack=0.35)
    peak = rng.uniform(1500, 6000)
    times = S.poisson_times(rng, env * peak, n, peak, sr)
    ticks = [S.decaying_noise(rng, sr, 0.004, rng.uniform(0.0001, 0.0005)) for _ in range(4)]
    if material is not None:
        ir = material_kernels(rng, sr, material, variants=2)
        ticks = [np.convolve(t, k[: int(0.08 * sr)])[: int(0.08 * sr)] for t in ticks for k in ir[:1]] + ticks[:2]
    amps = (rng.lognormal(0.0, 0.5, len(times)) * env[times // S.HOP]).astype(np.float32)
    out = S.normalise_rms(S.impulse_texture(n, times, amps, ticks, rng.integers(0, len(ticks), len(times))))
    colour = _colour(rng, sr, (2500, 6000), (0.8, 1.4))
    out = S.fft_filter(out, sr, colour)
    return S.normalise_rms(out)


def mic_brushing(rng, n, sr):
    """Brushing the microphone itself: bristle strokes plus the capsule's low handling rumble."""
    out = brushing(rng, n, sr)
    frames = S.n_frames(n)
    rumble_env = np.abs(np.diff(np.r_[0.0, S.gesture_envelope(rng, frames, sr, 1.5, (0.5, 0.9))]))
    rumble_env = (rumble_env / (rumble_env.max() + 1e-9)).astype(np.float32)[:, None]
    colour = (S.lowpass(S.bin_freqs(sr), rng.uniform(150, 450), 2) * S.highpass(S.bin_freqs(sr), 30.0, 2))
    rumble = S.normalise_rms(S.shaped_noise(rng, rumble_env * colour[None, :].astype(np.float32), n))
    return out + rumble * rng.uniform(0.3, 1.2)


def scratching(rng, n, sr, material: str | None = None):
    """Scratching: stick-slip impulse trains (a few hundred per second) in short strokes through a surface."""
    material = material or str(rng.choice(HARD_SURFACES))
    env = envelope(rng, n, sr, (1.5, 5.0), (0.3, 0.8), attack=0.2)
    base = rng.uniform(150, 900)
    rate_curve = env * base * np.exp(S.smooth_random(rng, len(env), 8.0 * S.HOP / sr, 0.35)).astype(np.float32)
    jitter = rng.random(n, dtype=np.float32) * np.float32(0.25 * base / sr)
    phase = np.cumsum(S.to_samples(rate_curve / sr, n) + jitter * S.to_samples(env > 0.05, n))
    times = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    kernels = [k[: int(0.15 * sr)] for k in material_kernels(rng, sr, material, variants=3)]
    amps = (rng.lognormal(0.0, 0.4, len(times)) * env[times // S.HOP]).astype(np.float32)
    return S.normalise_rms(S.impulse_texture(n, times, amps, kernels, rng.integers(0, 3, len(times))))


def chewing(rng, n, sr):
    """Mukbang: chewing cycles (crunchy or wet per session), lip smacks and the odd swallow."""
    crunchy = rng.uniform(0.35, 0.9)
    chew_rate = rng.uniform(1.2, 2.2)
    env = envelope(rng, n, sr, (chew_rate, chew_rate), (0.25, 0.5), attack=0.1, on=(4, 20))
    crunch = granular(rng, n, sr, rate=(800, 3000), grain_s=(0.0003, 0.002), centre=(1200, 3000),
                      gesture_rate=(chew_rate * 0.95, chew_rate * 1.05), duty=(0.2, 0.45), spread=0.8, hiss=0.1)
    wet = bubbles(rng, n, sr, env, rng.uniform(8, 40), (400, 3000), (0.002, 0.01))
    mouth = _colour(rng, sr, (300, 900), (0.8, 1.3))(S.bin_freqs(sr))[None, :].astype(np.float32)
    squish = S.shaped_noise(rng, env[:, None] * mouth, n)
    steady = np.ones(len(env), np.float32)
    smacks_t = S.poisson_times(rng, steady * 0.6, n, 0.6, sr)
    smack = [S.decaying_noise(rng, sr, 0.02, 0.002)]
    smacks = S.impulse_texture(n, smacks_t, np.ones(len(smacks_t), np.float32), smack, np.zeros(len(smacks_t), int))
    gulp_t = S.poisson_times(rng, steady * 0.08, n, 0.08, sr)
    gulp = [S.modal_kernel(rng, sr, np.array([rng.uniform(90, 200)]), np.array([0.05]), np.array([1.0]), 0.25)]
    gulps = S.impulse_texture(n, gulp_t, np.ones(len(gulp_t), np.float32), gulp, np.zeros(len(gulp_t), int))
    return (crunch * crunchy + S.normalise_rms(wet) * 0.5 + S.normalise_rms(squish) * (1 - crunchy) * 0.8
            + smacks * 0.15 + gulps * 0.1)
