"""DeepASMR stand-in: `deepasmr/<label>/<session>.wav`, the thesis's nine labels, stereo 22.05 kHz sessions.

Each session is one "video": its own speaker or material, gesture rate, microphone, level, room
tone and binaural placement, so that a class is many different-sounding recordings.
"""

from __future__ import annotations

import numpy as np

from asmr_corpus import room, triggers, voice

SR = 22050
DEEPASMR_LABELS = (
    "crushing sand", "crinkling plastic bag", "fingernail tapping", "whispering man", "whispering woman",
    "talking man", "stretching slime", "brushing the microphone", "mukbang",
)
# (sessions per label, session seconds range); the lead's split deals 2 of 10 sessions to test.
# quick: the 8 slices of ~1.03 s per session that tables 2-4's --quick read.
SIZES = {"default": (10, (60.0, 120.0)), "quick": (10, (8.4, 9.2)), "small": (4, (6.0, 9.0))}
# How fast the sound moves between the ears (sweeps per second), per label.
_MOTION = {"brushing the microphone": 0.5, "crinkling plastic bag": 0.3, "stretching slime": 0.2}


def render_label(label: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """n samples of mono, un-mastered sound of one label."""
    if label in ("whispering man", "whispering woman", "talking man"):
        speaker = voice.random_speaker(rng, "female" if label.endswith("woman") else "male", soft=True)
        return voice.monologue(rng, speaker, n, SR, whisper=label.startswith("whispering"))
    renderers = {
        "crushing sand": triggers.crushing_sand,
        "crinkling plastic bag": triggers.crinkling,
        "fingernail tapping": lambda r, m, sr: triggers.tapping(r, m, sr, nails=r.uniform(0.6, 1.0),
                                                                tempo=(7.0, 15.0), group=(6, 24)),
        "stretching slime": triggers.slime,
        "brushing the microphone": triggers.mic_brushing,
        "mukbang": triggers.chewing,
    }
    return renderers[label](rng, n, SR)


def plan(rng: np.random.Generator, size: str) -> list[dict]:
    sessions, seconds = SIZES[size]
    return [
        {"path": f"{label}/session_{i:02d}.wav", "label": label, "seconds": float(rng.uniform(*seconds))}
        for label in DEEPASMR_LABELS for i in range(sessions)
    ]


def render(job: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    n = int(job["seconds"] * SR)
    mono = render_label(job["label"], rng, n)
    return room.master(rng, mono, SR, stereo=True, moving=_MOTION.get(job["label"], 0.1)), SR
