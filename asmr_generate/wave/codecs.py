"""Sample encodings of the two generators: 8-bit mu-law (WaveNet) and 16-bit coarse/fine bytes (WaveRNN)."""

from __future__ import annotations

import numpy as np


def mulaw_encode(audio, quantization: int = 256) -> np.ndarray:
    """Float audio in [-1, 1] -> integer codes 0..quantization-1 (mu-law companded)."""
    mu = quantization - 1
    x = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.rint((y + 1.0) / 2.0 * mu).astype(np.int32)


def mulaw_decode(codes, quantization: int = 256) -> np.ndarray:
    """Integer codes -> float audio in [-1, 1] (the inverse companding of `mulaw_encode`)."""
    mu = quantization - 1
    y = 2.0 * np.asarray(codes, dtype=np.float64) / mu - 1.0
    return (np.sign(y) * ((1.0 + mu) ** np.abs(y) - 1.0) / mu).astype(np.float32)


def split16(audio) -> tuple[np.ndarray, np.ndarray]:
    """Float audio -> (coarse, fine): the high and low bytes of the offset 16-bit sample, each 0..255."""
    s = np.clip(np.rint(np.asarray(audio, dtype=np.float64) * 32768.0) + 32768, 0, 65535).astype(np.int32)
    return s // 256, s % 256


def join16(coarse, fine) -> np.ndarray:
    """(coarse, fine) bytes -> float audio; exact inverse of `split16` on 16-bit values."""
    s = np.asarray(coarse, dtype=np.int64) * 256 + np.asarray(fine, dtype=np.int64)
    return ((s - 32768) / 32768.0).astype(np.float32)


def scale_byte(values):
    """A byte 0..255 scaled to [-1, 1], the WaveRNN's input scale (works on numpy and tensors)."""
    return values / 127.5 - 1.0
