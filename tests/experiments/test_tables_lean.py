"""Tables 6 and 7 (LEAN) through their --quick paths on the small generated fsd50k corpus, one epoch each.

Table 6 trains two of its five models here, joint and LEAN, one pair of its Table II (the others differ only in
the model built, which tests/lean/test_lean_model.py covers; fine-tuning all of YAMNet would double the graph building).
Both start from an untrained YAMNet file instead of the stand-in pretraining (tests/lean/test_lean_data.py runs that),
and table 7 exports float only (tests/test_lean_export.py checks the int8 export).
"""

from __future__ import annotations

import json

import pytest

from experiments import table6, table7

# Parameters with the paper's 200 classes, which the paper's Table III prints (3.53M, 4.58M).
PARAMS_200 = {"joint": 4_518_280, "lean": 4_584_201}


@pytest.mark.slow
def test_table6_then_table7_quick(small_layout, untrained_yamnet, tmp_path, capsys):
    common = ["--quick", "--epochs", "1", "--yamnet", untrained_yamnet, "--data", str(small_layout("fsd50k")),
              "--runs", str(tmp_path / "runs")]
    assert table6.main([*common, "--variants", *PARAMS_200, "--out", str(tmp_path / "t6")]) == 0
    printed = capsys.readouterr().out
    assert "## Table III" in printed and "| Joint Model (JM) | JM + Bahdanau Cross Attention (LEAN) |" in printed
    assert f"YAMNet weights: {untrained_yamnet}" in printed and "YAMNet (finetune) |" not in printed
    t6 = json.loads((tmp_path / "t6" / "results.json").read_text())
    assert t6["quick"] is True and t6["budget"]["name"] == "quick" and t6["budget"]["epochs"] == 1
    assert set(t6["results"]) == set(PARAMS_200)
    for variant, r in t6["results"].items():
        assert r["params_200_classes"] == PARAMS_200[variant]
        assert 0.0 < r["mAP"] <= 1.0 and 0.0 <= r["mAUC"] <= 1.0
    # Both keep YAMNet frozen and train the wave encoder and head; LEAN's attention adds 65,921 parameters.
    joint, lean = t6["results"]["joint"], t6["results"]["lean"]
    for r in (joint, lean):
        assert 0.2 * r["params"] < r["trainable"] < 0.4 * r["params"]
    assert lean["trainable"] - joint["trainable"] == PARAMS_200["lean"] - PARAMS_200["joint"]
    counts = t6["table2"]["joint->lean"]
    assert list(t6["table2"]) == ["joint->lean"]
    assert counts["classes"] >= counts["overall"] >= counts["by 5%"] >= counts["by 10%"] >= counts["by 20%"] >= 0
    assert (tmp_path / "t6" / "map.png").stat().st_size > 1000

    # Table 7 exports table 6's LEAN model: it resumes that run instead of training another.
    assert table7.main([*common, "--repeats", "3", "--quantize", "none", "--out", str(tmp_path / "t7")]) == 0
    printed = capsys.readouterr().out
    assert "== lean: resuming" in printed and "## Table IV" in printed
    t7 = json.loads((tmp_path / "t7" / "results.json").read_text())["results"]
    assert list(t7) == ["keras", "none"]
    float_row = t7["none"]
    assert float_row["parity_ok"] and 0.0 < float_row["mAP"] <= 1.0 and all(ms > 0 for ms in float_row["latency_ms"].values())
    assert abs(t7["none"]["mAP"] - t7["keras"]["mAP"]) < 0.01  # the float file scores as Keras does
