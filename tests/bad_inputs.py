"""A corpus of awkward and broken audio files, each with what every file-reading command must say about it.

`write_corpus(folder)` writes the files and returns their `Case`s: the one-line reason a command gives
for a file it cannot use (`error`), or the quality flags (`audioprep.quality`) a classifier warns
about for a file it can, and the seconds that decode. `as_unprivileged()` runs a block without root's
override of file permissions (euid nobody), so the unreadable case is unreadable for root too.
"""

from __future__ import annotations

import os
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

NOBODY = 65534


@dataclass(frozen=True)
class Case:
    name: str
    error: str | None = None  # the start of the reason in "PATH: reason"
    flags: tuple[str, ...] = ()  # audioprep.quality flags: short, silent, truncated
    seconds: float | None = None  # what decodes, for files that decode


def _noise(seconds: float, sr: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    shape = (round(seconds * sr), channels) if channels > 1 else (round(seconds * sr),)
    return np.random.default_rng(seed).uniform(-0.3, 0.3, shape).astype(np.float32)


def _cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def write_corpus(folder: Path) -> list[Case]:
    """Every case of the corpus, written into `folder` (made world-readable for `as_unprivileged`)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    cases = []

    def add(case: Case, write=None) -> None:
        if write is not None:
            write(folder / case.name)
        (folder / case.name).chmod(0o644)
        cases.append(case)

    add(Case("empty.wav", error="empty file (0 bytes)"), lambda p: p.write_bytes(b""))
    add(Case("text as audio.wav", error="cannot decode audio"), lambda p: p.write_text("not audio at all\n" * 40))
    add(Case("header only.wav", error="holds no samples"), lambda p: sf.write(p, np.zeros(0, np.float32), 16000))
    add(Case("nan float.wav", error="holds NaN or infinite samples"),
        lambda p: sf.write(p, np.where(np.arange(8000) == 4000, np.nan, _noise(0.5, 16000)), 16000, subtype="FLOAT"))

    def truncated_wav(p):
        sf.write(p, _noise(2.0, 16000), 16000, subtype="PCM_16")
        _cut(p, 44 + 2 * 8000)  # the header promises 2 s, the data holds 0.5 s

    add(Case("truncated.wav", flags=("truncated",), seconds=0.5), truncated_wav)

    def truncated_mp3(p):
        sf.write(p, _noise(4.0, 22050), 22050)
        _cut(p, p.stat().st_size // 4)

    add(Case("truncated.mp3", flags=("truncated",), seconds=0.89), truncated_mp3)

    def tagged_mp3(p):
        """An ID3 text frame with a description but no text: mpg123 says "No extra frame text" on stderr."""
        sf.write(p, _noise(1.5, 22050, seed=2), 22050)
        frame = b"TXXX" + struct.pack(">I", 5) + b"\x00\x00" + b"\x00desc"
        size = bytes((len(frame) >> shift) & 0x7F for shift in (21, 14, 7, 0))  # ID3's 7-bit "syncsafe" size
        p.write_bytes(b"ID3\x03\x00\x00" + size + frame + p.read_bytes())

    add(Case("tagged.mp3", seconds=1.5), tagged_mp3)
    add(Case("one sample.wav", flags=("short",), seconds=1 / 16000), lambda p: sf.write(p, _noise(1 / 16000, 16000), 16000))
    add(Case("0.05 s.wav", flags=("short",), seconds=0.05), lambda p: sf.write(p, _noise(0.05, 16000), 16000))
    add(Case("silence.wav", flags=("silent",), seconds=2.0), lambda p: sf.write(p, np.zeros(32000, np.float32), 16000))
    add(Case("pcm8.wav", seconds=1.5), lambda p: sf.write(p, _noise(1.5, 16000), 16000, subtype="PCM_U8"))
    add(Case("pcm24.wav", seconds=1.5), lambda p: sf.write(p, _noise(1.5, 48000), 48000, subtype="PCM_24"))
    add(Case("rate 96k.wav", seconds=1.5), lambda p: sf.write(p, _noise(1.5, 96000), 96000))
    add(Case("six channels.wav", seconds=1.5), lambda p: sf.write(p, _noise(1.5, 44100, channels=6), 44100))
    add(Case("ünïcødé 名前 with spaces.flac", seconds=1.5), lambda p: sf.write(p, _noise(1.5, 44100, seed=1), 44100))
    add(Case("unreadable.wav", error="permission denied"), lambda p: sf.write(p, _noise(1.5, 16000), 16000))
    (folder / "unreadable.wav").chmod(0o000)
    return cases


@contextmanager
def as_unprivileged():
    """Run the block as user nobody when we are root (seteuid, undone after), so that file permissions
    apply; a non-root user needs nothing. Everything the block reads must be world-readable."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
