"""Common Voice stand-in: `commonvoice/clips/*.mp3` + `validated.tsv`, read speech of about 5 s.

Many synthetic speakers (each its own voice, device microphone and room), phonated at a
conversational level, with Common Voice's leading and trailing silence. The `sentence` column is
the pseudo-word transcript the clip was synthesised from. Written as 16 kHz mono mp3 (real clips are
32-48 kHz): mp3 encoding is most of the corpus' generation time, and ASMR-85's stand-in uses the same
rate so that no frequency band tells the two classes apart.
"""

from __future__ import annotations

import csv
import hashlib

import numpy as np

from asmr_corpus import room, voice

SR = 16000
# (speakers, clips); Lin's speech side, slightly fewer clips than ASMR-85's 10 s clips.
# quick: the 400 clips `experiments/table1.py --quick` reads.
SIZES = {"default": (310, 3100), "quick": (150, 400), "small": (6, 12)}
COLUMNS = ("client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accent", "locale", "segment")
AGES = ("teens", "twenties", "thirties", "fourties", "fifties", "sixties", "")
ACCENTS = ("United States English", "England English", "India and South Asia (India, Pakistan, Sri Lanka)",
           "Canadian English", "Australian English", "Scottish English", "")
CHAIN = room.Chain(level_db=(-32.0, -14.0), floor_db=(-68.0, -42.0))


def plan(rng: np.random.Generator, size: str) -> list[dict]:
    speakers, clips = SIZES[size]
    people = []
    for _ in range(speakers):
        gender = str(rng.choice(["male", "female", ""], p=[0.62, 0.3, 0.08]))
        people.append({
            "client_id": hashlib.sha512(rng.bytes(16)).hexdigest(),
            "gender": gender, "sex": gender or str(rng.choice(["male", "female"])),
            "age": str(rng.choice(AGES)), "accent": str(rng.choice(ACCENTS)),
            "voice_seed": int(rng.integers(2**31)),
        })
    # Some speakers record several times more clips than others (mildly, so that a 15 % share of
    # the speakers holds about 15 % of the clips).
    weights = rng.uniform(0.4, 2.0, speakers)
    owner = rng.choice(speakers, size=clips, p=weights / weights.sum())
    owner[: min(speakers, clips)] = np.arange(min(speakers, clips))
    clip_ids = rng.choice(np.arange(18_000_000, 40_000_000), size=clips, replace=False)
    jobs = []
    for i in range(clips):
        speech_s = float(rng.uniform(2.0, 5.0))
        words = voice.pseudo_words(rng, max(2, int(speech_s * rng.uniform(3.5, 5.0))))
        jobs.append({
            **people[owner[i]], "path": f"clips/common_voice_en_{clip_ids[i]}.mp3",
            "sentence": voice.spell(words).capitalize() + ".", "words": words,
            "up_votes": int(rng.integers(2, 5)), "down_votes": int(rng.integers(0, 2)),
            "lead": float(rng.uniform(0.15, 0.7)), "tail": float(rng.uniform(0.1, 0.5)),
        })
    return jobs


def render(job: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    person = np.random.default_rng(job["voice_seed"])  # same voice and device for all of a speaker's clips
    speaker = voice.random_speaker(person, job["sex"])
    level, mic = float(person.uniform(*CHAIN.level_db)), room.microphone(person)
    speech = voice.utterance(rng, speaker, job["words"], SR, whisper=False)
    clip = np.concatenate([np.zeros(int(job["lead"] * SR), np.float32), speech,
                           np.zeros(int(job["tail"] * SR), np.float32)])
    return room.master(rng, clip, SR, CHAIN, level_db=level + float(rng.uniform(-2, 2)), mic=mic), SR


def write_metadata(root, jobs: list[dict]) -> None:
    with (root / "validated.tsv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
        writer.writerow(COLUMNS)
        for job in jobs:
            writer.writerow([job["client_id"], job["path"].removeprefix("clips/"), job["sentence"], job["up_votes"],
                             job["down_votes"], job["age"], job["gender"], job["accent"], "en", ""])
