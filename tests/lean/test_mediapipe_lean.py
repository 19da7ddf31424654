"""Acceptance: a LEAN export runs in MediaPipe's AudioClassifier (clip and stream mode) with labels from the
file, and agrees with `python -m lean tag` on the same windows; so does the int8 export (sparse mel filterbank,
per-tensor int8 weights)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mediapipe_fixtures import clip_results, stream_results

from audioprep.io import write_audio
from lean.__main__ import main

RATE = 16000


@pytest.fixture(scope="module")
def exported(lean_float_export):
    return Path(lean_float_export.float_report["path"])


@pytest.fixture(scope="module")
def clip():
    rng = np.random.default_rng(0)
    return (0.3 * np.sin(2 * np.pi * np.cumsum(rng.uniform(200, 2000, 3 * RATE)) / RATE)
            + 0.05 * rng.standard_normal(3 * RATE)).astype(np.float32)


def _tag(model, wav, capsys) -> list[tuple[float, str, float]]:
    """(start, top label, score) per window of `python -m lean tag` (scores rounded to 4 decimals); the wav is
    written as float samples, so tag and MediaPipe see the same audio."""
    assert main(["tag", str(wav), "--model", str(model), "--top", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["windows"]
    return [(r["start"], r["labels"][0]["label"], r["labels"][0]["score"]) for r in rows]


def test_clip_mode_matches_lean_tag_without_a_labels_file(exported, clip, tmp_path, capsys):
    assert list(exported.parent.iterdir()) == [exported]
    got = clip_results(exported, clip, RATE)
    assert [t for t, _, _ in got] == [0, 1000, 2000]
    tagged = [row for row in _tag(exported, write_audio(tmp_path / "clip.wav", clip, RATE, subtype="FLOAT"), capsys) if row[0] % 1 == 0]
    assert [row[0] for row in tagged] == [0.0, 1.0, 2.0]  # tag's 50 % overlap: every other window is MediaPipe's
    assert [label for _, label, _ in got] == [label for _, label, _ in tagged]
    np.testing.assert_allclose([s for _, _, s in got], [s for _, _, s in tagged], atol=1e-4)


def test_clip_mode_at_44k_stereo_and_stream_mode_give_the_same_labels(exported, clip):
    import soxr

    full = clip_results(exported, clip, RATE)
    high = soxr.resample(clip, RATE, 44100).astype(np.float32)
    resampled = clip_results(exported, np.stack([high, high], axis=1), 44100)[:3]
    assert [(t, label) for t, label, _ in resampled] == [(t, label) for t, label, _ in full]
    # The engine's resampler delays the waveform by some samples and the Wave Encoder reads raw samples (20 samples
    # of shift move this model's top score by up to 0.15), so across rates only the labels are compared; the
    # stereo downmix itself is exact.
    mono = clip_results(exported, high, 44100)[:3]
    np.testing.assert_allclose([s for _, _, s in resampled], [s for _, _, s in mono], atol=1e-6)
    streamed = stream_results(exported, clip, RATE, block_ms=100)
    assert [(t, label) for t, label, _ in streamed[:3]] == [(t, label) for t, label, _ in full]
    np.testing.assert_allclose([s for _, _, s in streamed[:3]], [s for _, _, s in full], atol=1e-6)


def test_int8_export_runs_in_mediapipe_as_in_lean_tag(lean_float_export, clip, tmp_path, capsys):
    exported = Path(lean_float_export.int8()["path"])
    got = clip_results(exported, clip, RATE)
    tagged = [row for row in _tag(exported, write_audio(tmp_path / "clip.wav", clip, RATE, subtype="FLOAT"), capsys) if row[0] % 1 == 0]
    assert [t for t, _, _ in got] == [0, 1000, 2000] and [row[0] for row in tagged] == [0.0, 1.0, 2.0]
    assert [label for _, label, _ in got] == [label for _, label, _ in tagged]
    np.testing.assert_allclose([s for _, _, s in got], [s for _, _, s in tagged], atol=1e-4)
