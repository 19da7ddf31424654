"""Latency per 1 s window: the median of many timed calls after a warm-up, for Keras and TFLite alike."""

from __future__ import annotations

import time

import numpy as np


def median_latency_ms(call, window: np.ndarray, repeats: int = 50, warmup: int = 5) -> float:
    """Median wall time of `call(window)` in milliseconds."""
    for _ in range(warmup):
        call(window)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(window)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)


def busy_window(clips: list[np.ndarray], samples: int) -> np.ndarray:
    """A real, non-silent 1 s window: the loudest first second among the clips (latency on non-zero input)."""
    best = max(clips, key=lambda c: float(np.abs(c[:samples]).mean()) if len(c) >= samples else -1.0)
    return np.asarray(best[:samples], np.float32)
