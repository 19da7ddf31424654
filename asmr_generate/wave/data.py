"""Training data for the waveform generators: adell trigger sessions as code sequences, cut into batches.

Sessions are split by recording (`split_by_source`), loaded at the model's rate (mono, or both channels for
the stereo variant), encoded once (mu-law codes for WaveNet, 16-bit codes for WaveRNN), and batches are
random crops drawn with a seed fixed by (seed, epoch, batch index), so a resumed run sees the same data.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import keras
import numpy as np

from asmr_generate.wave.codecs import mulaw_encode, split16
from audioprep.datasets import load_examples, read_trigger_folders, split_by_source
from audioprep.errors import UsageError

SPLITS = ("train", "val", "test")


@dataclass
class TriggerAudio:
    """Float audio (channels, n) of every session of every split, with its trigger index."""

    triggers: list[str]
    sample_rate: int
    splits: dict[str, list[tuple[int, np.ndarray]]]

    def audio(self, split: str, trigger: int | None = None) -> list[np.ndarray]:
        return [a for t, a in self.splits[split] if trigger is None or t == trigger]


def load_trigger_audio(root, sample_rate: int, channels: int = 1, triggers=None, seed: int = 0,
                       progress: bool = True) -> TriggerAudio:
    """Read an adell-layout folder; `triggers` restricts to those labels (e.g. ["tapping/glass"])."""
    examples = read_trigger_folders(root)
    available = sorted({ex.label for ex in examples})
    chosen = available if not triggers else list(triggers)
    missing = [t for t in chosen if t not in available]
    if missing:
        raise UsageError(f"--trigger {missing[0]}: not in {root} (has {', '.join(available)})")
    splits: dict[str, list[tuple[int, np.ndarray]]] = {}
    # split every label of the folder, then keep the chosen ones: a session lands in the same split
    # whichever triggers a run trains on (and as in `audioprep.slices`, which the classifier reads)
    for split, members in split_by_source(examples, seed=seed).items():
        members = [ex for ex in members if ex.label in chosen]
        scan = load_examples(members, sr=sample_rate, mono=channels == 1, progress=progress)
        if scan.bad:
            print(scan.report(), file=sys.stderr)
        splits[split] = [(chosen.index(ex.label), _channels(audio, channels)) for ex, audio in scan.loaded]
    if not splits["train"]:
        raise UsageError(f"{root}: no readable training sessions for {', '.join(chosen)}")
    for split in ("val", "test"):  # a trigger with fewer than three sessions lends its training audio
        if not splits[split]:
            splits[split] = splits["train"]
    return TriggerAudio(chosen, sample_rate, splits)


def _channels(audio: np.ndarray, channels: int) -> np.ndarray:
    audio = np.atleast_2d(audio)
    if audio.shape[0] == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    return np.repeat(audio[:1], channels, axis=0)  # a mono session given to the stereo model


def encode(kind: str, audio: np.ndarray, quantization: int = 256) -> np.ndarray:
    """(channels, n) float audio -> WaveNet codes (n, channels) or WaveRNN 16-bit codes (n,)."""
    if kind == "wavenet":
        return mulaw_encode(audio, quantization).T
    coarse, fine = split16(audio.mean(axis=0))
    return coarse * 256 + fine


def silence_code(kind: str, quantization: int = 256) -> int:
    return quantization // 2 if kind == "wavenet" else 32768


class SegmentBatches(keras.utils.PyDataset):
    """Random crops of `segment + 1` codes from length-weighted sessions, as (inputs, targets) batches.

    `fixed=True` draws the same batches every epoch (validation). Sessions shorter than a crop are
    left-padded with silence.
    """

    def __init__(self, kind: str, sequences: list[tuple[int, np.ndarray]], segment: int, batch_size: int,
                 steps: int, seed: int = 0, conditioned: bool = False, fixed: bool = False,
                 quantization: int = 256, initial_epoch: int = 0):
        super().__init__()
        if not sequences:
            raise UsageError("no audio to draw training batches from")
        self.kind, self.segment, self.batch_size, self.steps = kind, segment, batch_size, steps
        self.seed, self.conditioned, self.fixed = seed, conditioned, fixed
        pad = silence_code(kind, quantization)
        self.sequences = []
        for trigger, codes in sequences:
            if len(codes) < segment + 1:
                width = ((segment + 1 - len(codes), 0),) + ((0, 0),) * (codes.ndim - 1)
                codes = np.pad(codes, width, constant_values=pad)
            self.sequences.append((trigger, codes))
        lengths = np.array([len(c) - segment for _, c in self.sequences], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        self.epoch = initial_epoch

    def __len__(self) -> int:
        return self.steps

    def on_epoch_end(self):
        self.epoch += 1

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, 0 if self.fixed else self.epoch, index])
        picks = rng.choice(len(self.sequences), size=self.batch_size, p=self.weights)
        windows, triggers = [], []
        for i in picks:
            trigger, codes = self.sequences[i]
            start = rng.integers(0, len(codes) - self.segment)
            windows.append(codes[start : start + self.segment + 1])
            triggers.append(trigger)
        return batch_arrays(self.kind, np.stack(windows), np.array(triggers, np.int32) if self.conditioned else None)


def batch_arrays(kind: str, windows: np.ndarray, triggers=None):
    """Code windows (batch, segment + 1, ...) -> the model's (inputs, targets) for next-sample prediction."""
    windows = windows.astype(np.int32)
    if kind == "wavenet":
        inputs, targets = {"audio": windows[:, :-1]}, windows[:, 1:]
    else:
        inputs = {"samples": windows}
        targets = {"coarse": windows[:, 1:] // 256, "fine": windows[:, 1:] % 256}
    if triggers is not None:
        inputs["trigger"] = np.asarray(triggers, np.int32)
    return inputs, targets


def tiled_windows(sequences: list[tuple[int, np.ndarray]], segment: int, limit: int | None = None):
    """Non-overlapping `segment + 1` windows covering held-out sessions (evenly thinned to `limit`)."""
    windows, triggers = [], []
    for trigger, codes in sequences:
        for start in range(0, len(codes) - segment, segment):
            windows.append(codes[start : start + segment + 1])
            triggers.append(trigger)
    if not windows:
        raise UsageError(f"held-out sessions are shorter than one {segment}-sample window")
    keep = np.arange(len(windows))
    if limit is not None and len(keep) > limit:
        keep = np.linspace(0, len(keep) - 1, limit).round().astype(int)
    return np.stack([windows[i] for i in keep]), np.array([triggers[i] for i in keep], np.int32)
