"""Tables 6 and 7 (LEAN) through their --quick paths on the small generated fsd50k corpus, one epoch each."""

from __future__ import annotations

import json

import pytest

from experiments import table6, table7

# Parameters with the paper's 200 classes, which the paper's Table III prints (rounded).
PARAMS_200 = {"yamnet_frozen": 3_422_344, "yamnet_finetune": 3_531_144, "joint": 4_518_280,
              "joint_affinity": 4_518_280, "lean": 4_584_201}


@pytest.mark.slow
def test_table6_then_table7_quick(small_layout, tmp_path, capsys):
    common = ["--quick", "--epochs", "1", "--pretrain-epochs", "1", "--data", str(small_layout("fsd50k")),
              "--runs", str(tmp_path / "runs")]
    assert table6.main([*common, "--out", str(tmp_path / "t6")]) == 0
    printed = capsys.readouterr().out
    assert "## Table III" in printed and "## Table II" in printed and "stand-in" in printed
    t6 = json.loads((tmp_path / "t6" / "results.json").read_text())
    assert t6["quick"] is True and t6["budget"]["name"] == "quick" and t6["budget"]["epochs"] == 1
    assert set(t6["results"]) == set(PARAMS_200)
    for variant, r in t6["results"].items():
        assert r["params_200_classes"] == PARAMS_200[variant]
        assert 0.0 < r["mAP"] <= 1.0 and 0.0 <= r["mAUC"] <= 1.0
    # Only the head trains on frozen YAMNet; fine-tuning trains (almost) everything.
    frozen, finetune = t6["results"]["yamnet_frozen"], t6["results"]["yamnet_finetune"]
    assert frozen["trainable"] < 0.01 * frozen["params"] and finetune["trainable"] > 0.9 * finetune["params"]
    for pair, counts in t6["table2"].items():
        assert counts["overall"] >= counts["by 5%"] >= counts["by 10%"] >= counts["by 20%"] >= 0, pair
    assert (tmp_path / "t6" / "map.png").stat().st_size > 1000

    # Table 7 exports table 6's LEAN model: it resumes that run instead of training another.
    assert table7.main([*common, "--repeats", "3", "--out", str(tmp_path / "t7")]) == 0
    printed = capsys.readouterr().out
    assert "== lean: resuming" in printed and "## Table IV" in printed
    t7 = json.loads((tmp_path / "t7" / "results.json").read_text())["results"]
    assert t7["int8"]["bytes"] < t7["dynamic"]["bytes"] < t7["none"]["bytes"]
    for q in ("none", "dynamic", "int8"):
        assert t7[q]["parity_ok"] and 0.0 < t7[q]["mAP"] <= 1.0 and all(ms > 0 for ms in t7[q]["latency_ms"].values())
    assert abs(t7["none"]["mAP"] - t7["keras"]["mAP"]) < 0.01  # the float file scores as Keras does
