"""What the streaming tests share: a generated recording whose sound changes every few seconds, and
a small untrained DeepASMR (f) model with fixed weights (equality of results needs no accuracy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def recording(seconds: float, sr: int = 44100, seed: int = 0) -> np.ndarray:
    """(2, n) float32 stereo: sections of 2-9 s, each a tone, noise, clicks or near-silence, so that
    windows along the recording get different labels."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros((2, n), np.float32)
    start = 0
    while start < n:
        stop = min(n, start + int(rng.uniform(2, 9) * sr))
        t = np.arange(stop - start) / sr
        kind = rng.integers(4)
        if kind == 0:
            section = np.sin(2 * np.pi * rng.uniform(100, 4000) * t)
        elif kind == 1:
            section = rng.standard_normal(len(t)) * 0.5
        elif kind == 2:
            section = (rng.random(len(t)) < 0.002) * 1.0
        else:
            section = 0.01 * rng.standard_normal(len(t))
        gain = rng.uniform(0.1, 0.6, size=(2, 1))
        out[:, start:stop] = np.clip(gain * section, -1, 1)
        start = stop
    return out


def tiny_model(path: Path, seed: int = 0) -> Path:
    """A deepasmr model (8 filters), untrained but seeded, its output layer scaled up so that the top
    two classes of a window are far apart (float rounding cannot swap them); saved as `path`."""
    import keras

    from asmr_classify import models

    keras.utils.set_random_seed(seed)
    model = models.build("deepasmr", filters=8, dense_units=16)
    layer = model.get_layer("probs")
    layer.set_weights([w * 8.0 for w in layer.get_weights()])
    model.optimizer.build(model.trainable_variables)  # saved with its optimizer state: loads without a warning
    model.save(path)
    return path
