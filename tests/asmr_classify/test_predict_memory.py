"""Memory of what `predict` and `catalog` keep per window of a long recording: segment embeddings are summed a
chunk of segments at a time, with the same vectors as summing them all at once."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from asmr_classify import predict
from audioprep.segment import window_bounds

WINDOWS = 20000  # 5.6 h of back-to-back 1.03 s windows
DIM = 64  # DeepASMR's embedding layer


def timeline(windows: int = WINDOWS, seed: int = 0) -> predict.Timeline:
    """Labels in runs of ten windows (segments as a recording's), half of them under a 0.5 threshold."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(rng.integers(0, 9, windows // 10 + 1), 10)[:windows]
    probs = np.full((windows, 9), 0.02, np.float32)
    probs[np.arange(windows), labels] = rng.uniform(0.3, 0.9, windows)
    return predict.Timeline(probs, [f"c{i}" for i in range(9)], 22050, 22680, 22680, windows * 22680,
                            embeddings=rng.standard_normal((windows, DIM)).astype(np.float16))


def all_at_once(t: predict.Timeline, threshold: float) -> np.ndarray:
    """The mean embeddings as they were computed before: every kept window's vector copied to float64 at once."""
    segments = predict.merge_windows(t.windows(threshold))
    _, confidence = t.verdicts()
    kept = np.flatnonzero(confidence >= threshold)
    starts, _ = window_bounds(len(confidence), t.window_samples, t.hop_samples, t.sample_rate, total=t.samples)
    owner = np.searchsorted([s.start for s in segments], starts[kept], side="right") - 1
    sums = np.zeros((len(segments), DIM), np.float64)
    np.add.at(sums, owner, t.embeddings[kept].astype(np.float64))
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float16)


@pytest.mark.parametrize("threshold", [0.0, 0.5])
@pytest.mark.parametrize("chunk", [1, 7, predict.SEGMENT_CHUNK])
def test_chunked_segment_embeddings_equal_the_all_at_once_sums(monkeypatch, threshold, chunk):
    t = timeline(3000, seed=1)
    monkeypatch.setattr(predict, "SEGMENT_CHUNK", chunk)
    segments, vectors = predict.segment_embeddings(t, threshold)
    assert vectors.dtype == np.float16 and len(vectors) == len(segments) > 100
    np.testing.assert_array_equal(vectors, all_at_once(t, threshold))


def traced_peak(fn, *args) -> int:
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("threshold", [0.0, 0.5])
def test_segment_embeddings_hold_no_float64_copy_of_the_windows(threshold):
    """Beyond what the segments themselves take, the vectors cost under twice the float16 embeddings; a float64
    copy of the kept windows' vectors alone would be four times them."""
    t = timeline()
    segments_alone = traced_peak(lambda: predict.merge_windows(t.windows(threshold)))
    with_vectors = traced_peak(predict.segment_embeddings, t, threshold)
    assert with_vectors - segments_alone < 2 * t.embeddings.nbytes
    assert traced_peak(all_at_once, t, threshold) - segments_alone > 3 * t.embeddings.nbytes  # the old way
