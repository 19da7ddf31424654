"""experiments/esc50.py --quick on the small generated ESC-50 layout: the fold protocol's table and results."""

from __future__ import annotations

import json

import pytest

from experiments import esc50


@pytest.mark.slow
def test_esc50_quick_prints_fold_means_beside_published_figures(small_layout, untrained_yamnet, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--quick", "--epochs", "1", "--lean-epochs", "1", "--data", str(small_layout("esc50")), "--folds", "1", "2",
            "--models", "mfcc_logreg", "clip_mfcc_logreg", "dense_audio", "yamnet_probe", "yamnet", "--yamnet", untrained_yamnet,
            "--out", str(out), "--runs", str(tmp_path / "runs")]
    assert esc50.main(args) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "results.json").read_text())
    assert result["folds"] == [1, 2] and len(result["classes"]) == 6 and not result["generated_corpus"]
    for name in ("mfcc_logreg", "clip_mfcc_logreg", "dense_audio", "yamnet_probe", "yamnet"):
        scores = result["results"][name]["clip_accuracy"]
        assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
        assert result["results"][name]["mean"] == pytest.approx(sum(scores) / 2)
        assert f"fold 2 {name}: clip accuracy" in printed
    assert result["results"]["mfcc_logreg"]["mean"] > 1 / 6  # the linear floor sits above chance on 6 classes
    assert result["results"]["clip_mfcc_logreg"]["mean"] > 1 / 6
    assert result["results"]["yamnet"]["mean"] > 1 / 6  # Google's YAMNet under a converged head, above chance
    table = (out / "table.md").read_text()
    assert "human listeners (crowdsourced) | 81.3 |" in table and "mean ± std, 2 folds" in table
    assert (tmp_path / "runs" / "yamnet_probe-fold2" / "best.keras").exists()
    # the transfer row names its weights (the bundled real YAMNet, whatever --yamnet says) and trained per fold
    assert result["yamnet_transfer"]["weights"] == "bundled asmr_audioset/assets/yamnet.tflite"
    assert "beyond the papers: YAMNet transfer (Google's YAMNet, AudioSet weights" in table
    assert "YAMNet transfer row: Google's AudioSet YAMNet, bundled asmr_audioset/assets/yamnet.tflite" in table
    params = json.loads((tmp_path / "runs" / "yamnet-fold2" / "params.json").read_text())
    assert params["test_fold"] == 2 and params["yamnet"] == result["yamnet_transfer"]


def test_esc50_refuses_folds_the_data_lacks_and_other_layouts(small_layout, tmp_path, capsys):
    assert esc50.main(["--data", str(small_layout("esc50")), "--folds", "7", "--out", str(tmp_path)]) == 2
    assert "error: --folds 7: the dataset's folds are 1, 2, 3, 4, 5" in capsys.readouterr().err
    assert esc50.main(["--data", str(small_layout("deepasmr")), "--out", str(tmp_path)]) == 2
    assert "not an ESC-50 layout" in capsys.readouterr().err
