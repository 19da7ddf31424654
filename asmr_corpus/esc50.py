"""ESC-50 stand-in: `esc50/audio/{fold}-{src}-{take}-{target}.wav` + `meta/esc50.csv`, 5 s mono 44.1 kHz clips.

A few of ESC-50's 50 categories (with their real target numbers), each rendered by the FSD50K stand-in's
event generators. As in ESC-50, every clip is a take (A, B, ...) cut from one source recording, all takes
of a source sit in one of the five folds, and a sound shorter than 5 s is padded with digital silence.
Two of the categories are ESC-10's (rain, crackling fire), so the ESC-10 switch has something to select.
"""

from __future__ import annotations

import csv

import numpy as np

from asmr_corpus import events, room, triggers

SR = 44100
CLIP_SECONDS = 5.0
FOLDS = 5
# category -> (ESC-50 target, in ESC-10, renderer(rng, n, sr))
CATEGORIES = {
    "rain": (10, True, events.rain),
    "crackling_fire": (12, True, triggers.crushing_sand),
    "clapping": (22, False, events.clapping),
    "coughing": (24, False, events.cough),
    "footsteps": (25, False, events.footsteps),
    "keyboard_typing": (32, False, events.typing),
}
# (source recordings per category and fold, takes per source): ESC-50 has 8 clips per category and fold.
# quick: the whole default set (seconds to make), as esc50.py --quick reads every clip.
SIZES = {"default": (4, 2), "quick": (4, 2), "small": (1, 2)}
CHAIN = room.Chain(level_db=(-30.0, -14.0), floor_db=(-72.0, -50.0))
COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


def plan(rng: np.random.Generator, size: str) -> list[dict]:
    per_fold, takes = SIZES[size]
    count = len(CATEGORIES) * FOLDS * per_fold
    src_ids = rng.choice(np.arange(10_000, 300_000), size=count, replace=False)
    jobs = []
    for i, (category, fold, _) in enumerate(
            (c, f, s) for c in CATEGORIES for f in range(1, FOLDS + 1) for s in range(per_fold)):
        src, seed = int(src_ids[i]), int(rng.integers(2**31))
        for t in range(takes):
            take = "ABCDEFGH"[t]
            jobs.append({"path": f"audio/{fold}-{src}-{take}-{CATEGORIES[category][0]}.wav", "fold": fold,
                         "category": category, "src_file": src, "take": take, "take_index": t, "takes": takes,
                         "source_seed": seed, "active_seconds": float(rng.uniform(2.0, CLIP_SECONDS))})
    return jobs


def render(job: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One take: a 5 s cut of its source recording (rendered from the source's own seed, so the takes
    of one source share its sound, microphone and room), the sound then padded with silence to 5 s."""
    source = np.random.default_rng(job["source_seed"])
    clip = int(CLIP_SECONDS * SR)
    recording = CATEGORIES[job["category"]][2](source, clip * job["takes"], SR)
    mastered = room.master(source, recording, SR, CHAIN)
    out = np.zeros(clip, np.float32)
    active = int(job["active_seconds"] * SR)
    start = job["take_index"] * clip
    out[:active] = mastered[start : start + active]
    return out, SR


def write_metadata(root, jobs: list[dict]) -> None:
    (root / "meta").mkdir(parents=True, exist_ok=True)
    with (root / "meta" / "esc50.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for job in sorted(jobs, key=lambda j: j["path"]):
            target, esc10, _ = CATEGORIES[job["category"]]
            writer.writerow([job["path"].split("/", 1)[1], job["fold"], target, job["category"], esc10,
                             job["src_file"], job["take"]])
