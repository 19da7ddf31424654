"""LEAN's data path: the decoded PCM store (resumable, lazy), the patch index, and `python -m lean train` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from audioprep import pcm_store
from audioprep.datasets import Example
from lean.data import SHORT, ClipSet, patch_dataset, patch_index, read_patches
from lean.params import LeanParams


@pytest.fixture
def recordings(tmp_path):
    rng = np.random.default_rng(0)
    examples = []
    for i, seconds in enumerate([2.5, 0.3, 1.0, 3.2]):
        x = (0.3 * rng.uniform(-1, 1, int(16000 * seconds))).astype(np.float32)
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, x, 16000, subtype="PCM_16")
        examples.append(Example(path=path, labels=("a",), source=str(i)))
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF this is not audio")
    examples.insert(2, Example(path=corrupt, labels=("a",), source="bad"))
    return examples


def test_store_holds_the_decoded_clips_and_names_the_bad_file(recordings, tmp_path):
    examples = recordings
    clips = pcm_store.decode(examples, 16000, tmp_path / "store", progress=False)
    assert len(clips) == 4 and clips.kept == [0, 1, 3, 4]
    for stored, i in zip(clips, clips.kept, strict=True):
        np.testing.assert_array_equal(stored, sf.read(examples[i].path, dtype="float32")[0])  # 16-bit: exact
    np.testing.assert_array_equal(clips.lengths, [40000, 4800, 16000, 51200])
    assert "4 files read, 1 skipped" in clips.report() and "corrupt.wav" in clips.report()
    assert clips[-1].shape == (51200,) and len(clips[1:3]) == 2


def test_interrupted_decoding_resumes_from_its_checkpoint(recordings, tmp_path, monkeypatch):
    examples = recordings
    real_open, calls = pcm_store.AudioStream, []

    def open_then_fail(path, **kwargs):
        calls.append(path)
        if len(calls) == 4:
            raise KeyboardInterrupt  # the user stops the job during the 4th file
        return real_open(path, **kwargs)

    monkeypatch.setattr(pcm_store, "AudioStream", open_then_fail)
    with pytest.raises(KeyboardInterrupt):
        pcm_store.decode(examples, 16000, tmp_path / "store", progress=False, checkpoint_every=2)
    progress = json.loads((tmp_path / "store" / pcm_store.PROGRESS).read_text())
    assert progress["done"] == 2
    monkeypatch.setattr(pcm_store, "AudioStream", real_open)
    resumed = pcm_store.decode(examples, 16000, tmp_path / "store", progress=False, checkpoint_every=2)
    fresh = pcm_store.decode(examples, 16000, tmp_path / "fresh", progress=False)
    assert resumed.kept == fresh.kept and resumed.bad == fresh.bad
    for a, b in zip(resumed, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "store" / pcm_store.PROGRESS).exists()


def test_patch_index_cuts_whole_seconds_and_repeats_short_clips():
    p = LeanParams()
    ramp = np.arange(40000, dtype=np.float32) / 40000
    short = np.linspace(-1, 1, 4800, dtype=np.float32)
    clips = ClipSet([ramp, short], np.array([[1.0, 0.0], [0.0, 1.0]], np.float32), [])
    index = patch_index(clips, p)
    np.testing.assert_array_equal(index, [[0, 0], [0, 16000], [1, SHORT]])
    assert len(patch_index(clips, LeanParams(max_patches_per_clip=1))) == 2
    waves, labels = read_patches(clips, index, p)
    np.testing.assert_array_equal(waves[1], ramp[16000:32000])
    np.testing.assert_array_equal(waves[2], np.tile(short, 4)[:16000])
    np.testing.assert_array_equal(labels[:, 1], [0, 0, 1])
    batches = list(patch_dataset(clips, p))
    assert batches[0][0].shape == (3, 16000) and batches[0][1].shape == (3, 2)


def test_lean_train_and_evaluate_cli_on_a_small_corpus(small_layout, tmp_path, capsys):
    from lean.__main__ import main

    data, out = small_layout("fsd50k"), tmp_path / "run"
    args = ["--data", str(data), "--epochs", "1", "--max-patches-per-clip", "1", "--batch-size", "16"]
    assert main(["train", "--variant", "yamnet_frozen", "--pretrain-epochs", "1", "--out", str(out), *args]) == 0
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 2 and "val_pr_auc" in history[0]
    assert main(["evaluate", "--model", str(out), "--data", str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 < result["mAP"] <= 1.0 and result["classes_scored"] >= 2


def test_lean_train_killed_mid_epoch_resumes_bit_for_bit(small_layout, untrained_yamnet, tmp_path, monkeypatch, capsys):
    """A crash inside epoch 2 repeats that epoch from its checkpoint with the same batches: the end is identical.

    A time shift makes yamnet_frozen read waveforms per batch (not cached embeddings) and draws per batch too.
    An untrained YAMNet file stands in for the pretraining, which the CLI test covers."""
    import keras

    from lean import train
    from lean.__main__ import main
    data = small_layout("fsd50k")
    args = ["train", "--variant", "yamnet_frozen", "--yamnet", untrained_yamnet, "--data", str(data), "--epochs", "2",
            "--max-patches-per-clip", "1", "--batch-size", "8", "--time-shift", "0.1"]
    real, calls = train.read_patches, []

    def read(clips, rows, params):
        calls.append(len(rows))
        if len(calls) == crash_at:
            raise RuntimeError("simulated crash mid-epoch")
        return real(clips, rows, params)

    monkeypatch.setattr(train, "read_patches", read)
    crash_at = 0
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    # three batches are read once more: two by Keras to learn the batch shapes, one to build before tracing
    per_epoch = (len(calls) - 3) // 2
    assert per_epoch >= 2 and len(calls) == 3 + 2 * per_epoch
    crash_at, calls[:] = 3 + per_epoch + per_epoch // 2 + 1, []
    out = tmp_path / "crashed"
    assert main([*args, "--out", str(out)]) == 1
    assert "error: UnknownError" in capsys.readouterr().err  # TensorFlow wraps the crash in the input pipeline
    assert json.loads((out / "state.json").read_text())["epoch"] == 1
    assert main([*args, "--out", str(out), "--resume"]) == 0
    assert (out / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()
    for a, b in zip(keras.models.load_model(out / "last.keras").weights,
                    keras.models.load_model(tmp_path / "whole" / "last.keras").weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
