"""The table scripts' --quick paths on the small generated corpus: tables, paper columns, figures."""

from __future__ import annotations

import json

import pytest

from experiments import table1, table2


@pytest.mark.slow
def test_table1_quick(small_layout, tmp_path, capsys):
    parent = tmp_path / "lin"
    parent.mkdir()
    for layout in ("asmr85", "commonvoice"):
        (parent / layout).symlink_to(small_layout(layout), target_is_directory=True)
    out = tmp_path / "results"
    assert table1.main(["--quick", "--epochs", "2", "--data", str(parent), "--out", str(out),
                                   "--runs", str(tmp_path / "runs")]) == 0
    printed = capsys.readouterr().out
    assert "Total params: ours 1,062,850 (non-trainable 512); paper 1,062,850 (non-trainable 512)" in printed
    assert printed.count("| yes |") == 16 and "98-99 %" in printed
    assert "| test accuracy / macro-F1 per recording (clip probabilities averaged) |" in printed
    assert "test inputs per class (10 s clips / recordings): asmr " in printed
    results = json.loads((out / "results.json").read_text())
    assert [int(r["epoch"]) for r in results["history"]] == [0, 1]
    assert 0.0 <= results["test"]["accuracy"] <= 1.0 and results["quick"] is True
    for name in ("figure1_mfcc_asmr", "figure2_mfcc_speech", "figure3_clips_per_class", "figure6_loss",
                 "figure7_accuracy"):
        assert (out / f"{name}.png").stat().st_size > 1000
    assert "not the paper's" in (out / "table.md").read_text()
    # beyond the paper: the YAMNet transfer row on the same folder, its weights named
    transfer = results["yamnet_transfer"]
    assert transfer["weights"]["weights"] == "bundled asmr_audioset/assets/yamnet.tflite"
    assert transfer["head"]["solver"] == "lbfgs" and transfer["head"]["converged"]
    assert 0.0 <= transfer["test"]["accuracy"] <= 1.0 and transfer["test"]["clip"]["accuracy"] >= 0.5
    assert "| beyond the papers: YAMNet transfer (Google's YAMNet, AudioSet weights, frozen; " in printed
    assert "## Beyond the paper: YAMNet transfer" in (out / "table.md").read_text()
    assert (tmp_path / "runs" / "yamnet" / "best.keras").exists()


@pytest.mark.slow
def test_table2_quick(small_layout, tmp_path, capsys):
    out = tmp_path / "results"
    argv = ["--quick", "--epochs", "1", "--seeds", "2", "--max-slices-per-file", "2",
            "--models", "dense_audio", "deepasmr", "mfcc_logreg", "--data", str(small_layout("deepasmr")),
            "--out", str(out), "--runs", str(tmp_path / "runs")]
    assert table2.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| (a) single dense layer on audio | 40.0 |" in printed
    assert "| (f) (e) fine-tuned: ELU/tanh, RMSprop, Talos | 95.4 |" in printed
    assert "| ours accuracy % per clip | ours clip macro-F1 % |" in printed
    assert "test inputs per class (slices / clips): brushing the microphone 2/1, " in printed
    results = json.loads((out / "results.json").read_text())
    assert set(results["results"]) == {"dense_audio", "deepasmr", "mfcc_logreg"}
    for r in results["results"].values():
        assert all(len(r[key]) == 2 and all(0 <= a <= 1 for a in r[key])
                   for key in ("accuracy", "clip_accuracy", "clip_macro_f1"))
    assert len(results["classes"]) == 9
    assert (out / "figure10_tsne.png").stat().st_size > 1000
