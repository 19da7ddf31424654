"""render_docs' results:table6-seeds block: LEAN's Table III over the committed run and its seed runs, per model
present in all of them, with LEAN's margin over the frozen probe; a quick seed run is refused in one line."""

from __future__ import annotations

import json

from experiments import render_docs

PAPER = {"table3": {"yamnet_frozen": {"label": "YAMNet (without finetune)"}, "joint": {"label": "Joint Model (JM)"},
                    "lean": {"label": "JM + Bahdanau Cross Attention (LEAN)"}}}


def _run(seed: int, maps: dict[str, float], quick: bool = False) -> str:
    return json.dumps({"quick": quick, "yamnet": "YAMNet weights: Google's", "params": {"seed": seed},
                       "results": {m: {"mAP": v} for m, v in maps.items()}, "paper": PAPER})


def _repo(tmp_path, quick_seed: bool = False):
    (tmp_path / "results" / "table6").mkdir(parents=True)
    (tmp_path / "results" / "table6" / "results.json").write_text(
        _run(0, {"yamnet_frozen": 0.5857, "joint": 0.5838, "lean": 0.5909}))
    for seed, maps in ((1, {"yamnet_frozen": 0.58, "lean": 0.575}), (2, {"yamnet_frozen": 0.57, "lean": 0.59})):
        folder = tmp_path / "results" / "table6_seeds" / f"seed{seed}"
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(_run(seed, maps, quick=quick_seed and seed == 2))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "lean.md").write_text("<!-- results:table6-seeds -->\n<!-- /results:table6-seeds -->\n")
    (tmp_path / "README.md").write_text("no blocks\n")
    return tmp_path


def test_seeds_are_tabled_per_model_in_every_run(tmp_path):
    repo = _repo(tmp_path)
    assert render_docs.main(["--root", str(repo)]) == 0
    page = (repo / "docs" / "lean.md").read_text()
    assert "3 full runs of `python experiments/table6.py` (seeds 0, 1, 2; YAMNet weights: Google's)" in page
    assert "| YAMNet (without finetune) | 0.5857 | 0.5800 | 0.5700 | 0.5786 | 0.5700-0.5857 |" in page
    assert "| JM + Bahdanau Cross Attention (LEAN) | 0.5909 | 0.5750 | 0.5900 | 0.5853 | 0.5750-0.5909 |" in page
    assert "| LEAN - frozen YAMNet | +0.0052 | -0.0050 | +0.0200 | +0.0067 | 2 of 3 seeds above 0 |" in page
    assert "Joint Model" not in page  # not run with every seed


def test_a_quick_seed_run_is_refused_in_one_line(tmp_path, capsys):
    repo = _repo(tmp_path, quick_seed=True)
    assert render_docs.main(["--root", str(repo)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "results/table6_seeds/seed2/results.json: a --quick run's results" in err[0]
