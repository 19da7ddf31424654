"""Chunked evaluation and the metrics, on hand-made cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from audioprep.segment import sliding_windows, stream_windows
from lean.data import ClipSet, clip_patches
from lean.evaluate import classes_improved, clip_scores, evaluate, scores_metrics
from lean.tag import tag_audio


class MeanScorer:
    """Scores a window by its mean sample value (class 0) and one minus it (class 1)."""

    labels = ["high", "low"]

    def __call__(self, windows):
        m = np.asarray(windows).mean(axis=1)
        return np.stack([m, 1.0 - m], axis=1)


def test_metrics_on_a_hand_made_case():
    y = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], np.float32)
    s = np.array([[0.9, 0.9], [0.8, 0.8], [0.2, 0.7], [0.1, 0.1]], np.float32)
    m = scores_metrics(y, s)
    # class 0 ranked perfectly: AP 1, AUC 1; class 1: positives at ranks 1 and 3 -> AP (1 + 2/3) / 2, AUC 3/4.
    assert m["per_class_ap"] == pytest.approx([1.0, 5 / 6])
    assert m["mAP"] == pytest.approx(11 / 12)
    assert m["mAUC"] == pytest.approx(0.875)
    assert m["dprime"] == pytest.approx(np.sqrt(2) * norm.ppf(0.875))


def test_chunked_evaluation_averages_overlapping_windows_per_clip():
    sr = 16000
    step = np.concatenate([np.full(sr, 0.2), np.full(sr, 0.6)]).astype(np.float32)  # windows 0.2, 0.4, 0.6
    short = np.full(sr // 2, 0.9, np.float32)  # one repeated window
    flat = np.full(3 * sr, 0.1, np.float32)
    assert len(sliding_windows(step, sr)) == 3
    scores = clip_scores(MeanScorer(), [step, short, flat], batch_windows=2)
    np.testing.assert_allclose(scores[:, 0], [0.4, 0.9, 0.1], rtol=1e-6)
    labels = np.array([[1, 0], [1, 0], [0, 1]], np.float32)
    result = evaluate(MeanScorer(), ClipSet([step, short, flat], labels, []))
    assert result["mAP"] == pytest.approx(1.0) and result["mAUC"] == pytest.approx(1.0)
    labels_swapped = np.array([[1, 0], [0, 1], [1, 0]], np.float32)  # "high" clips: 0.4 and 0.1; "low": 0.9
    swapped = evaluate(MeanScorer(), ClipSet([step, short, flat], labels_swapped, []))
    assert swapped["per_class_ap"][0] == pytest.approx(0.5 * (0.5 + 2 / 3))


def test_classes_improved_counts_relative_margins():
    base = [0.5, 0.5, 0.5, 0.5, None]
    ref = [0.4, 0.51, 0.54, 0.7, 0.9]
    assert classes_improved(base, ref) == {"classes": 4, "overall": 3, "by 5%": 2, "by 10%": 1, "by 20%": 1}


def test_training_patches_and_streamed_windows():
    sr = 16000
    audio = np.random.default_rng(0).uniform(-1, 1, int(3.7 * sr)).astype(np.float32)
    assert clip_patches(audio).shape == (3, sr)
    assert np.array_equal(clip_patches(audio[:4000])[0, :8000], np.tile(audio[:4000], 2))
    streamed = np.concatenate([w for _, w in stream_windows(audio, sr, 0.5, batch=3)])
    np.testing.assert_array_equal(streamed, sliding_windows(audio, sr, 0.5))
    rows = tag_audio(MeanScorer(), audio, top=1)
    assert len(rows) == len(streamed) and rows[0]["start"] == 0.0 and rows[1]["start"] == 0.5
    assert rows[-1]["end"] == pytest.approx(3.7)
