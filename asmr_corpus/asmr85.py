"""ASMR-85 stand-in: a folder of long ASMR-style recordings (`asmr85/asmr_NN.wav`, mono 16 kHz).

Each recording is one creator's video: a fixed whisperer and a few favourite triggers, in
sections of 20-90 s (whispering alone, triggers alone, or whispering over triggers), close-mic
and quiet. Lin 2024 cuts these into 10 s clips.
"""

from __future__ import annotations

import numpy as np

from asmr_corpus import room, triggers, voice

SR = 16000  # both Lin layouts at 16 kHz (see commonvoice.py); Lin resamples to 22.05 kHz
# (recordings, minutes range); 85 as in the dataset's name. Lin's 10 s clips: ~3,950 by default
# (slightly more than the 3,100 Common Voice clips, as in Lin's Figure 3).
# quick: what `experiments/table1.py --quick` reads, 6 clips of 10 s from each of the 85 recordings.
SIZES = {"default": (85, (6.5, 9.0)), "quick": (85, (1.02, 1.15)), "small": (4, (0.5, 0.7))}
TRIGGERS = {
    "tapping": triggers.tapping, "brushing": triggers.brushing, "crinkling": triggers.crinkling,
    "scratching": triggers.scratching, "crushing": triggers.crushing_sand, "slime": triggers.slime,
    "mic brushing": triggers.mic_brushing, "chewing": triggers.chewing,
}
CHAIN = room.Chain(level_db=(-40.0, -24.0), floor_db=(-74.0, -52.0))


def plan(rng: np.random.Generator, size: str) -> list[dict]:
    count, minutes = SIZES[size]
    return [{"path": f"asmr_{i + 1:02d}.wav", "seconds": float(rng.uniform(*minutes) * 60)} for i in range(count)]


def render(job: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    n = int(job["seconds"] * SR)
    speaker = voice.random_speaker(rng, "female" if rng.random() < 0.65 else "male", soft=True)
    favourites = rng.choice(list(TRIGGERS), size=int(rng.integers(2, 5)), replace=False)
    out = np.zeros(n, np.float32)
    start = 0
    while start < n:
        m = min(n - start, int(rng.uniform(20, 90) * SR))
        kind = rng.choice(["whisper", "trigger", "both"], p=[0.4, 0.35, 0.25])
        section = np.zeros(m, np.float32)
        if kind != "trigger":
            section += voice.monologue(rng, speaker, m, SR, whisper=rng.random() < 0.85)
        if kind != "whisper":
            sound = TRIGGERS[str(rng.choice(favourites))](rng, m, SR)
            gain = 0.5 if kind == "both" else 1.0
            section += sound / max(room.active_rms(sound, SR), 1e-9) * np.float32(gain * 0.05)
        out[start : start + m] = section
        start += m
    return room.master(rng, out, SR, CHAIN), SR
