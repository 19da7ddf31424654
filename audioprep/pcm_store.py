"""Decoded clips as one memory-mapped 16-bit PCM file, for datasets larger than RAM.

FSD50K's 108 hours are 25 GB as float32 at 16 kHz; decoded once into `samples.int16` (12 GB) with
an offsets index, a split is read lazily clip by clip afterwards. Each file is decoded block by block
straight into the store, so a long recording costs one block of memory. Decoding checkpoints every
few hundred files and an interrupted pass continues where it stopped; unreadable files are skipped
and named, as in `datasets.load_examples`, and nothing of a file that fails part-way is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audioprep import console
from audioprep.datasets import Example, ScanResult
from audioprep.errors import AudioError
from audioprep.files import read_json, write_json
from audioprep.stream import AudioStream

PCM_SCALE = 32768.0  # soundfile's scale: 16-bit sources round-trip exactly
SAMPLES, INDEX, PROGRESS = "samples.int16", "index.json", "progress.json"


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * PCM_SCALE), -32768, 32767).astype(np.int16)


class PcmClips(Sequence):
    """The clips of a finished store: `clips[i]` is clip i as float32 in [-1, 1], read from disk on access."""

    def __init__(self, folder: Path):
        index = read_json(Path(folder) / INDEX)
        self.offsets = np.asarray(index["offsets"], np.int64)
        self.lengths = np.diff(self.offsets)
        self.kept = index["kept"]  # positions of the stored clips in the example list given to `decode`
        self.bad = [(Path(p), reason) for p, reason in index["bad"]]
        size = int(self.offsets[-1])
        self._samples = np.memmap(Path(folder) / SAMPLES, np.int16, "r", shape=(size,)) if size else np.zeros(0, np.int16)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return self._samples[self.offsets[i] : self.offsets[i + 1]].astype(np.float32) / PCM_SCALE

    def report(self) -> str:
        return ScanResult(bad=self.bad).report(loaded=len(self))


def decode(examples: list[Example], sr: int, folder, progress: bool = True, checkpoint_every: int = 250) -> PcmClips:
    """The store of `examples` decoded at `sr` in `folder`: reused when finished, else decoded (or resumed)."""
    folder = Path(folder)
    if (folder / INDEX).exists():
        return PcmClips(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {"done": 0, "offsets": [0], "kept": [], "bad": []}
    if (folder / PROGRESS).exists():
        state = read_json(folder / PROGRESS)
    with open(folder / SAMPLES, "ab") as out:
        out.truncate(state["offsets"][-1] * 2)  # drop anything written after the last checkpoint
        out.seek(0, 2)
        todo = examples[state["done"] :]
        for position, ex in enumerate(console.bar(todo, desc="decoding audio", unit="file", enabled=progress, leave=False), state["done"]):
            try:
                written = _append(out, AudioStream(ex.path, sr=sr))
            except AudioError as err:
                out.truncate(state["offsets"][-1] * 2)  # the blocks written before the failure
                state["bad"].append([str(ex.path), err.reason])
            else:
                state["offsets"].append(state["offsets"][-1] + written)
                state["kept"].append(position)
            state["done"] = position + 1
            if state["done"] % checkpoint_every == 0:
                out.flush()
                write_json(folder / PROGRESS, state)
    write_json(folder / INDEX, {key: state[key] for key in ("offsets", "kept", "bad")})
    (folder / PROGRESS).unlink(missing_ok=True)
    return PcmClips(folder)


def _append(out, stream: AudioStream) -> int:
    """Write the stream's blocks as 16-bit PCM; returns the samples written."""
    for block in stream:
        out.write(to_pcm16(block).tobytes())
    return stream.samples
