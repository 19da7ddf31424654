"""Fine-tuning LEAN / YAMNet on single-label folders: the probe's cache, softmax export with the folder's labels,
the probe as the converged logistic regression, ESC-50's fold protocol, and bad flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lean.probe
from asmr_training.model_files import BEST, load_model
from asmr_training.run_spec import RunSpec
from lean import train
from lean.__main__ import main
from lean.data import load_data, patch_index
from lean.logistic import fit_logistic
from lean.params import LeanParams
from lean.probe import embeddings_path, patch_embeddings
from lean.scoring import TfliteScorer

COMMON = ["--epochs", "2", "--max-patches-per-clip", "1", "--batch-size", "8"]


def _history(run):
    return (run / "history.csv").read_text().splitlines()


@pytest.mark.slow
def test_probe_trains_on_a_label_folder_and_exports_its_labels(small_layout, untrained_yamnet, tmp_path, capsys):
    data, run = small_layout("deepasmr"), tmp_path / "probe"
    args = ["train", "--variant", "yamnet_frozen", "--data", str(data), "--yamnet", untrained_yamnet, *COMMON]
    assert main([*args, "--out", str(run)]) == 0
    params = json.loads((run / "params.json").read_text())
    assert params["multi_label"] is False and params["linear_probe_on_cached_embeddings"] is True
    assert params["params"]["mixup_alpha"] == 0.0 and params["params"]["spec_time_masks"] == 0  # recorded, off
    assert 0.0 < params["abstain_threshold"] <= 1.0 and params["abstain_windows"] > 0  # calibrated on validation
    assert "val_accuracy" in _history(run)[0] and len(_history(run)) == 2  # the solve is the probe's one epoch
    model = load_model(run)  # the whole waveform model, not the head alone
    assert model.inputs[0].shape[-1] == 16000 and model.get_layer("classifier").activation.__name__ == "softmax"
    out = tmp_path / "probe.tflite"
    assert main(["export", "--model", str(run), "--out", str(out)]) == 0
    assert "SOFTMAX" in capsys.readouterr().out
    scorer = TfliteScorer(out)
    assert scorer.labels == sorted(p.name for p in data.iterdir() if p.is_dir() and not p.name.startswith("."))
    scores = scorer(np.random.default_rng(0).uniform(-0.3, 0.3, (2, 16000)).astype(np.float32))
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_probe_is_the_converged_logistic_regression_of_cached_embeddings(small_layout, untrained_yamnet, tmp_path,
                                                                        monkeypatch):
    """The probe's head is the logistic regression solved on the cached embeddings, fitting the training patches at
    least as well as gradient steps through the frozen YAMNet; a second probe over the same patches reads no audio."""
    params = LeanParams(batch_size=8, epochs=2, max_patches_per_clip=1)
    data = load_data(small_layout("deepasmr"), params, splits=("train", "val"), progress=False)
    probe = train.train_variant(RunSpec(tmp_path / "probe"), params, "yamnet_frozen", data, untrained_yamnet,
                                verbose=0).model
    clips = data.splits["train"]
    cached = embeddings_path(clips, untrained_yamnet, params)
    stamp, index = cached.stat().st_mtime_ns, patch_index(clips, params)
    monkeypatch.setattr(lean.probe, "read_patches", lambda *a: pytest.fail("embeddings recomputed"))
    again = patch_embeddings(probe.get_layer("yamnet_embedding"), clips, index, cached, params, progress=False)
    assert again.shape == (len(index), 1024) and cached.stat().st_mtime_ns == stamp
    kernel, bias = fit_logistic(again, clips.labels[index[:, 0]], multi_label=False)
    for got, want in zip(probe.get_layer("classifier").get_weights(), (kernel, bias), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(train, "uses_probe", lambda variant, p: False)
    train.train_variant(RunSpec(tmp_path / "batch"), params, "yamnet_frozen", data, untrained_yamnet, verbose=0)
    assert not json.loads((tmp_path / "batch" / "params.json").read_text())["linear_probe_on_cached_embeddings"]
    solved, stepped = (json.loads((tmp_path / run / "state.json").read_text())["history"][-1]
                       for run in ("probe", "batch"))
    assert solved["loss"] < stepped["loss"] and solved["accuracy"] >= stepped["accuracy"]


def test_esc50_trains_on_four_folds_and_tests_on_the_fifth(small_layout, untrained_yamnet, tmp_path):
    root = small_layout("esc50")
    data = load_data(root, LeanParams(), test_fold=3, progress=False)
    fold = {s: {int(p.name.split("-")[0]) for p in data.splits[s].paths} for s in data.splits}
    assert fold == {"train": {1, 2, 4, 5}, "val": set(), "eval": {3}}
    assert data.multi_label is False and "test fold 3" in data.protocol
    params = LeanParams(batch_size=16, epochs=1, max_patches_per_clip=1)
    train.train_variant(RunSpec(tmp_path / "esc"), params, "yamnet_frozen", data, untrained_yamnet, verbose=0)
    assert "pr_auc" in _history(tmp_path / "esc")[0] and "val_pr_auc" not in _history(tmp_path / "esc")[0]
    assert (tmp_path / "esc" / BEST).exists()  # no validation fold: the best epoch by training PR-AUC


@pytest.mark.parametrize("flags, message", [
    (["--test-fold", "9"], "error: --test-fold 9: the dataset's folds are 1, 2, 3, 4, 5"),
    (["--spec-time-masks", "2", "--yamnet", "https://tfhub.dev/google/yamnet/1"], "SpecAugment masks YAMNet's log-mel"),
])
def test_bad_fine_tuning_flags_get_one_line(small_layout, tmp_path, capsys, flags, message):
    args = ["train", "--variant", "yamnet_frozen", "--data", str(small_layout("esc50")), "--out", str(tmp_path / "r")]
    assert main([*args, *flags]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err
