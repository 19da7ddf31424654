"""Source-filter speech: a glottal pulse train (talking) or breath noise (whispering) through formants.

A speaker is a vocal-tract length (formant scale), a pitch range, a speaking rate and a voice
quality; an utterance is a list of pseudo-words, each syllable a consonant and a vowel whose
formant targets come from Peterson & Barney's averages, interpolated across syllables
(coarticulation). The same utterance can be phonated or whispered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asmr_corpus import sources as S

# Peterson & Barney (1952) average adult-male F1-F3 (Hz), keyed by the spelling used in transcripts.
VOWELS = {
    "ee": (270, 2290, 3010), "i": (390, 1990, 2550), "e": (530, 1840, 2480), "a": (660, 1720, 2410),
    "ah": (730, 1090, 2440), "aw": (570, 840, 2410), "oo": (300, 870, 2240), "u": (440, 1020, 2240),
    "uh": (640, 1190, 2390), "er": (490, 1350, 1690),
}
# Consonant spelling -> (kind, noise centre Hz, noise bandwidth Hz)
CONSONANTS = {
    "s": ("fricative", 6500, 3500), "sh": ("fricative", 3300, 2200), "f": ("fricative", 5500, 7000),
    "h": ("aspirate", 0, 0), "th": ("fricative", 6000, 6000),
    "p": ("plosive", 1200, 3000), "t": ("plosive", 4500, 4000), "k": ("plosive", 2200, 2500),
    "m": ("nasal", 0, 0), "n": ("nasal", 0, 0), "l": ("glide", 0, 0), "r": ("glide", 0, 0),
    "w": ("glide", 0, 0), "": ("none", 0, 0),
}
_VOWEL_KEYS = list(VOWELS)
_COARSE = 3
_CONSONANT_KEYS = list(CONSONANTS)


@dataclass(frozen=True)
class Speaker:
    """One synthetic voice."""

    tract: float  # formant scale: 1.0 adult male, ~1.17 adult female
    f0: float  # mean pitch, Hz
    f0_span: float  # intonation range, semitones
    rate: float  # syllables per second
    breath: float  # aspiration noise mixed into phonation, 0..1
    tilt: float  # extra source spectral tilt, dB per octave


def random_speaker(rng: np.random.Generator, sex: str, soft: bool = False) -> Speaker:
    """A speaker drawn from overlapping male/female distributions; `soft` = ASMR soft-spoken."""
    if sex == "male":
        tract, f0 = rng.normal(1.0, 0.045), rng.uniform(85, 150)
    else:
        tract, f0 = rng.normal(1.16, 0.05), rng.uniform(165, 250)
    return Speaker(
        tract=float(tract), f0=float(f0),
        f0_span=float(rng.uniform(1.5, 3.5) if soft else rng.uniform(2.5, 6.0)),
        rate=float(rng.uniform(2.6, 3.8) if soft else rng.uniform(3.5, 5.2)),
        breath=float(rng.uniform(0.15, 0.45) if soft else rng.uniform(0.03, 0.2)),
        tilt=float(rng.uniform(-4.0, -1.0) if soft else rng.uniform(-2.0, 1.0)),
    )


def pseudo_words(rng: np.random.Generator, syllables: int) -> list[list[tuple[str, str]]]:
    """Random pseudo-words (1-3 syllables each) totalling about `syllables` syllables."""
    words = []
    total = 0
    while total < syllables:
        size = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
        words.append([(str(rng.choice(_CONSONANT_KEYS)), str(rng.choice(_VOWEL_KEYS))) for _ in range(size)])
        total += size
    return words


def spell(words: list[list[tuple[str, str]]]) -> str:
    return " ".join("".join(c + v for c, v in word) for word in words)


def _timeline(rng, speaker: Speaker, words):
    """Per-syllable (start, duration, consonant, vowel, accent) with pauses between phrases."""
    starts, durs, cons, vows, accents = [], [], [], [], []
    t = rng.uniform(0.05, 0.25)
    phrase_left = rng.integers(2, 6)
    for word in words:
        for i, (c, v) in enumerate(word):
            d = rng.gamma(7.0, 1.0 / (7.0 * speaker.rate))
            starts.append(t)
            durs.append(d)
            cons.append(c)
            vows.append(v)
            accents.append(1.0 if (i == 0 and rng.random() < 0.5) else 0.0)
            t += d
        t += rng.uniform(0.0, 0.06)
        phrase_left -= 1
        if phrase_left == 0:
            t += rng.uniform(0.2, 0.7)
            phrase_left = rng.integers(2, 6)
    f32 = np.float32
    return (
        np.array(starts, f32), np.array(durs, f32), cons, vows, np.array(accents, f32), t + rng.uniform(0.1, 0.3)
    )


def utterance(rng: np.random.Generator, speaker: Speaker, words, sr: int, whisper: bool) -> np.ndarray:
    """Render pseudo-words as speech (mono float32), phonated or whispered, at their natural length."""
    starts, durs, cons, vows, accents, natural = _timeline(rng, speaker, words)
    n = int(natural * sr)
    frames = S.n_frames(n)
    t = S.frame_times(frames, sr)
    freqs = S.bin_freqs(sr)[None, :]

    k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
    pos = (t - starts[k]) / durs[k]
    inside = (pos >= 0) & (pos < 1)
    kinds = np.array([CONSONANTS[c][0] for c in cons])
    cfrac_syl = np.where(kinds == "none", 0.05, rng.uniform(0.25, 0.45, len(cons))).astype(np.float32)
    cfrac = cfrac_syl[k]
    in_vowel = inside & (pos >= cfrac)
    in_cons = inside & (pos < cfrac)
    vpos = np.clip((pos - cfrac) / (1 - cfrac), 0, 1)
    vowel_amp = np.where(in_vowel, np.sqrt(np.maximum(np.sin(np.pi * vpos), 0)), 0.0) * (1 + 0.5 * accents[k])
    cpos = np.clip(pos / cfrac, 0, 1)
    cons_amp = np.where(in_cons, np.sin(np.pi * cpos), 0.0).astype(np.float32)
    kind = kinds[k]
    voiced_cons = np.isin(kind, ("nasal", "glide")) & in_cons

    # Formant tracks through vowel-centre knots (coarticulation), scaled by the vocal tract; the
    # tract envelope is evaluated every third frame (35 ms), fine for syllable-rate movements.
    centres = starts + durs * (cfrac_syl + 1) / 2
    targets = np.array([VOWELS[v] for v in vows], dtype=np.float32) * speaker.tract
    if whisper:
        targets[:, 0] *= 1.12  # whispered F1 sits higher (open glottis)
    coarse = t[::_COARSE]
    tracks = np.stack([np.interp(coarse, centres, targets[:, j]) for j in range(3)], axis=1).astype(np.float32)
    nasal_coarse = (kind == "nasal")[::_COARSE]
    tracks[nasal_coarse | voiced_cons[::_COARSE], 0] = 280 * speaker.tract
    widen = 1.8 if whisper else 1.0
    static = S.resonance(freqs, 3400 * speaker.tract, 220 * widen)
    tract_env = static * S.resonance(freqs, tracks[:, :1], 70 * widen)
    tract_env *= S.resonance(freqs, tracks[:, 1:2], 90 * widen)
    tract_env *= S.resonance(freqs, tracks[:, 2:3], 140 * widen)
    tract_env[nasal_coarse] *= S.lowpass(freqs[0], 500.0, 2) * 0.7 + 0.05
    tract_env = np.repeat(tract_env.astype(np.float32), _COARSE, axis=0)[:frames]

    # Consonant noise: fricative bands and plosive bursts, and aspiration (/h/) through the tract.
    centre = np.array([CONSONANTS[c][1] for c in cons], dtype=np.float32)[k][:, None] * speaker.tract ** 0.5
    width = np.array([CONSONANTS[c][2] for c in cons], dtype=np.float32)[k][:, None] + 1.0
    burst = np.where(kind == "plosive", np.exp(-cpos * 6.0), 1.0)
    fric_amp = (np.isin(kind, ("fricative", "plosive")) * burst * cons_amp * 0.3).astype(np.float32)[:, None]
    noise_env = np.exp(-0.5 * np.square((freqs - centre) / (width / 2))) * fric_amp
    noise_env += tract_env * ((kind == "aspirate") * cons_amp * np.float32(0.2))[:, None]

    source_tilt = S.tilt(freqs, speaker.tilt) * S.highpass(freqs, 70.0, 2)
    amp_voice = (vowel_amp + np.where(voiced_cons, 0.45 * cons_amp, 0.0)).astype(np.float32)[:, None]
    if whisper:
        breath_env = tract_env * (S.highpass(freqs, 350.0, 2) * S.tilt(freqs, 2.0)) * amp_voice
        return S.shaped_noise(rng, (breath_env + noise_env).astype(np.float32), n)

    # Glottal pulse train following the intonation contour (declination + accents + jitter).
    phrase_pos = np.clip(t / max(natural, 1e-3), 0, 1)
    semitones = speaker.f0_span * (0.5 - phrase_pos + 0.6 * accents[k] * in_vowel) + S.smooth_random(
        rng, frames, 0.02, 0.3
    )
    f0_frames = speaker.f0 * np.power(2.0, semitones / 12.0)
    f0 = S.to_samples(f0_frames, n) * (1 + 0.02 * (rng.random(n, dtype=np.float32) - 0.5))
    phase = np.cumsum(f0 / sr)
    pulses = np.zeros(n, np.float32)
    at = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    pulses[at] = rng.uniform(0.85, 1.15, len(at)) * np.sqrt(sr / f0[at])
    voiced_env = tract_env * (source_tilt * S.lowpass(freqs, 3500.0, 1)) * amp_voice
    noise_env += tract_env * (S.highpass(freqs, 1000.0, 1) * speaker.breath * 0.25) * amp_voice
    return S.filter_signal(pulses, voiced_env) + S.shaped_noise(rng, noise_env.astype(np.float32), n)


def monologue(rng: np.random.Generator, speaker: Speaker, n: int, sr: int, whisper: bool) -> np.ndarray:
    """n samples of one speaker talking or whispering: utterances separated by 0.2-1.2 s pauses."""
    out, filled = np.zeros(n, np.float32), 0
    while filled < n:
        part = utterance(rng, speaker, pseudo_words(rng, int(rng.integers(8, 30))), sr, whisper)
        take = min(len(part), n - filled)
        out[filled : filled + take] = part[:take]
        filled += take + int(rng.uniform(0.2, 1.2) * sr)
    return out
