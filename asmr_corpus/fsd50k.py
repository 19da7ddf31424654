"""FSD50K stand-in: `fsd50k/FSD50K.{dev,eval}_audio/<id>.wav` + `FSD50K.ground_truth/{dev,eval,vocabulary}.csv`.

Multi-label clips of 0.3-30 s (mostly short, as in FSD50K) mixing one to three events from a
24-class vocabulary named the FSD50K way (AudioSet display names, ", " -> "_and_", spaces -> "_")
with their AudioSet machine ids. 16 kHz mono (the real clips are 44.1 kHz; LEAN resamples to 16 kHz).
"""

from __future__ import annotations

import csv

import numpy as np

from asmr_corpus import events, room, triggers, voice
from asmr_corpus import sources as S

SR = 16000
# label -> (AudioSet mid, renderer(rng, n, sr))
VOCABULARY = {
    "Breathing": ("/m/0lyf6", events.breathing),
    "Chewing_and_mastication": ("/m/03cczk", triggers.chewing),
    "Clapping": ("/m/0l15bq", events.clapping),
    "Cough": ("/m/01b_21", events.cough),
    "Crumpling_and_crinkling": ("/t/dd00112", triggers.crinkling),
    "Crushing": ("/m/07plct2", triggers.crushing_sand),
    "Drip": ("/m/07r5v4s", events.drip),
    "Finger_snapping": ("/m/025_jnm", events.finger_snapping),
    "Glass": ("/m/039jq", events.glass_clink),
    "Bell": ("/m/0395lw", events.bell),
    "Idling": ("/m/07pb8fc", events.idling),
    "Keys_jangling": ("/m/03v3yw", events.keys_jangling),
    "Knock": ("/m/07r4wb8", lambda r, n, sr: triggers.tapping(r, n, sr, "wood", 0.1, (3.0, 7.0), (2, 5))),
    "Pour": ("/m/07prgkl", events.pour),
    "Rain": ("/m/06mb1", events.rain),
    "Scratch": ("/m/07qb_dv", triggers.scratching),
    "Speech": ("/m/09x0r", lambda r, n, sr: voice.monologue(
        r, voice.random_speaker(r, str(r.choice(["male", "female"]))), n, sr, whisper=False)),
    "Squish": ("/m/07qlwh6", triggers.slime),
    "Tap": ("/m/07qcpgn", lambda r, n, sr: triggers.tapping(r, n, sr, None, r.uniform(0.2, 0.9))),
    "Typing": ("/m/0316dw", events.typing),
    "Walk_and_footsteps": ("/m/07pbtc8", events.footsteps),
    "Whispering": ("/m/02rtxlg", lambda r, n, sr: voice.monologue(
        r, voice.random_speaker(r, str(r.choice(["male", "female"])), soft=True), n, sr, whisper=True)),
    "Wind": ("/m/03m9d0z", events.wind),
    "Writing": ("/m/081rb", lambda r, n, sr: triggers.scratching(r, n, sr, "cardboard")),
}
LABELS = tuple(sorted(VOCABULARY))
# (dev clips, eval clips); the eval split is what LEAN reports on.
# quick: the first 600 train, 48 val and 120 eval clips tables 6-7's --quick read (a dev clip is val at 15 %).
SIZES = {"default": (2100, 1100), "quick": (760, 120), "small": (40, 20)}
CHAIN = room.Chain(level_db=(-36.0, -16.0), floor_db=(-78.0, -48.0))
AUDIO = {"dev": "FSD50K.dev_audio", "eval": "FSD50K.eval_audio"}
TRUTH = "FSD50K.ground_truth"


def _duration(rng: np.random.Generator) -> float:
    """0.3-30 s, skewed short (median ~1.5 s, mean ~4.5 s)."""
    return float(0.3 * 100.0 ** (rng.random() ** 1.5))


def plan(rng: np.random.Generator, size: str) -> list[dict]:
    dev, evaluation = SIZES[size]
    ids = rng.choice(np.arange(1, 450_000), size=dev + evaluation, replace=False)
    jobs = []
    for i, fname in enumerate(ids):
        part = "dev" if i < dev else "eval"
        k = int(rng.choice([1, 2, 3], p=[0.55, 0.3, 0.15]))
        labels = [str(x) for x in rng.choice(LABELS, size=k, replace=False)]
        jobs.append({
            "path": f"{AUDIO[part]}/{int(fname)}.wav", "fname": int(fname), "part": part, "labels": labels,
            "split": ("val" if rng.random() < 0.15 else "train") if part == "dev" else "eval",
            "seconds": _duration(rng),
        })
    return jobs


def render(job: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    n = max(int(job["seconds"] * SR), int(0.3 * SR))
    mix = np.zeros(n, np.float32)
    for j, label in enumerate(job["labels"]):
        # The first event spans the clip; later ones cover a random part of it.
        m = n if j == 0 else int(rng.uniform(0.3, 1.0) * n)
        start = 0 if j == 0 else int(rng.integers(0, n - m + 1))
        sound = VOCABULARY[label][1](rng, m, SR)
        for _ in range(50):  # a sparse event (a drip, a bell) can miss a short clip: draw it again
            if np.abs(sound).max() > 0:
                break
            sound = VOCABULARY[label][1](rng, m, SR)
        gain = S.db(rng.uniform(-6.0, 0.0) if j else 0.0) / max(room.active_rms(sound, SR), 1e-9)
        mix[start : start + m] += sound * np.float32(gain)
    return room.master(rng, mix, SR, CHAIN), SR


def write_metadata(root, jobs: list[dict]) -> None:
    truth = root / TRUTH
    truth.mkdir(parents=True, exist_ok=True)
    with (truth / "vocabulary.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows((i, label, VOCABULARY[label][0]) for i, label in enumerate(LABELS))
    for part, header in (("dev", ("fname", "labels", "mids", "split")), ("eval", ("fname", "labels", "mids"))):
        with (truth / f"{part}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for job in (j for j in jobs if j["part"] == part):
                row = [job["fname"], ",".join(job["labels"]), ",".join(VOCABULARY[x][0] for x in job["labels"])]
                writer.writerow(row + ([job["split"]] if part == "dev" else []))
