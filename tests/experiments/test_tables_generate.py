"""Tables 3-5 (the generators) through their --quick paths on the small generated corpora, one epoch each.

Table 5 runs its WaveRNN family only: each WaveNet costs about a minute of graph building on 2 cores,
and its quick run trains four (tests/asmr_generate/test_wave_models.py covers the WaveNet itself).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from asmr_generate.mel.timbral import ATTRIBUTES
from experiments import table3, table4, table5


@pytest.fixture
def moon_parent(small_layout, tmp_path):
    """A folder holding deepasmr/ (the generators' corpus) and adell/ (table3's glass and wood taps)."""
    parent = tmp_path / "moon"
    parent.mkdir()
    for layout in ("deepasmr", "adell"):
        (parent / layout).symlink_to(small_layout(layout), target_is_directory=True)
    return parent


@pytest.mark.slow
def test_table4_then_table3_quick(moon_parent, tmp_path, capsys):
    runs = tmp_path / "runs"
    common = ["--quick", "--slices", "2", "--epochs", "1", "--data", str(moon_parent), "--runs", str(runs)]
    assert table4.main([*common, "--out", str(tmp_path / "t4")]) == 0
    printed = capsys.readouterr().out
    assert "| VAE |" in printed and "| GAN |" in printed and "71 %" in printed and "real held-out slices" in printed
    t4 = json.loads((tmp_path / "t4" / "results.json").read_text())
    assert t4["scale"] == {"slices": 2, "vae_epochs": 1, "gan_epochs": 1, "judge_epochs": 1, "variations": 50, "blends": 50}
    assert len(t4["classes"]) == 9
    assert [r["depth"] for r in t4["decoder_depth"]] == list(table4.DEPTHS)
    assert set(t4["results"]) == {"VAE", "GAN"} | {f"VAE, {k}" for k in list(t4["collapse"])[1:]}
    for name, r in t4["results"].items():
        assert 0 <= r["variation_accuracy"] <= 1 and 0 <= r["blend_accuracy"] <= 1, name
        assert np.mean(list(r["variation_per_label"].values())) == pytest.approx(r["variation_accuracy"])
        assert r["frechet_variations"] >= 0 and r["frechet_blends"] >= 0
    for label, c in t4["collapse"].items():
        assert 0 <= c["active_units"] <= c["latent_dim"] and c["kl_total"] >= 0, label
    # The depth-5 row of the depth comparison is the main VAE, judged on the same generations.
    assert t4["decoder_depth"][1]["variation_accuracy"] == t4["results"]["VAE"]["variation_accuracy"]
    assert {p.name for p in (tmp_path / "t4").glob("*.png")} == {"collapse.png", "examples.png"}
    assert len(list((tmp_path / "t4" / "audio").glob("*.wav"))) == 8

    # table3 shares table4's budget, so it reuses table4's depth-5 VAE instead of training one.
    before = sorted(p.name for p in runs.iterdir())
    assert table3.main([*common, "--out", str(tmp_path / "t3")]) == 0
    assert sorted(p.name for p in runs.iterdir()) == before
    t3 = json.loads((tmp_path / "t3" / "results.json").read_text())
    assert (t3["scale"]["slices"], t3["scale"]["vae_epochs"]) == (2, 1) and "glass" in t3["glass"]
    assert list(t3["scores"]) == ["Glass (input)", "Wood (input)", "Glass, mel -> Griffin-Lim only",
                                  "Wood, mel -> Griffin-Lim only", "VAE blend", "Linear interpolation"]
    assert all(set(s) == set(ATTRIBUTES) and all(np.isfinite(list(s.values()))) for s in t3["scores"].values())
    assert t3["scores"]["Glass (input)"] != t3["scores"]["Wood (input)"]
    glass, rate = sf.read(tmp_path / "t3" / "audio" / "glass_input.wav")
    linear, _ = sf.read(tmp_path / "t3" / "audio" / "linear_interpolation.wav")
    wood, _ = sf.read(tmp_path / "t3" / "audio" / "wood_input.wav")
    assert rate == 22050 and len(glass) == len(wood) == len(linear)
    assert np.allclose(linear, 0.5 * (glass + wood), atol=1e-3)  # 16-bit files
    assert "WaveNet autoencoder (ours) | - |" in (tmp_path / "t3" / "table.md").read_text()


@pytest.mark.slow
def test_table5_quick_wavernn(small_layout, tmp_path, capsys):
    out = tmp_path / "t5"
    assert table5.main(["--quick", "--families", "wavernn", "--data", str(small_layout("adell")), "--out", str(out),
                        "--runs", str(tmp_path / "runs")]) == 0
    printed = capsys.readouterr().out
    assert "| WaveRNN, one conditioned model |" in printed and "| WaveNet, " not in printed and "stereo" not in printed
    t5 = json.loads((out / "results.json").read_text())
    triggers = list(table5.QUICK_TRIGGERS)
    assert t5["quick"] is True and t5["budget"]["triggers"] == triggers and "wavenet" not in t5
    assert 0 <= t5["reference"]["classifier_test_accuracy"] <= 1 and t5["reference"]["real_train_vs_test_db"] >= 0
    rnn = t5["wavernn"]
    for variant in ("per_trigger", "conditioned"):
        assert list(rnn[variant]) == triggers
        for row in rnn[variant].values():
            assert 0 < row["nll_bits"] < 14  # bits per 16-bit sample: the quick steps learn (uniform is 16)
            assert 0 <= row["share"] <= 1 and row["distance_db"] >= 0 and row["rms"] > 0
    summary = rnn["summary"]["conditioned"]
    assert summary["share"] == pytest.approx(np.mean([r["share"] for r in rnn["conditioned"].values()]))
    assert rnn["verdict"][0] in ("confirmed", "partly confirmed", "not confirmed")
    assert np.asarray(rnn["final_embeddings"]).shape[0] == len(triggers)
    assert set(t5["figure8"]) == {"WaveRNN_early", "WaveRNN_late"}
    assert (out / "figure8_mds.png").stat().st_size > 1000
    assert len(list(out.glob("example_wavernn_*.wav"))) == 2 * len(triggers)  # per-trigger and conditioned
    assert (tmp_path / "runs" / "quick" / "wavernn_conditioned").is_dir()
