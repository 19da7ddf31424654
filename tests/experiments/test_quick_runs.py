"""A --quick run reads a corpus of its own, sized to what its budget reads, and writes where git ignores it;
results name no machine's folders; render_docs renders full runs only."""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess

import numpy as np
import pytest

from asmr_corpus import adell, asmr85, commonvoice, deepasmr, fsd50k
from asmr_corpus.writer import layout_key
from audioprep.params import MelSliceParams, MfccParams
from audioprep.paths import data_root
from experiments import harness, lean_setup, render_docs, table1, table2, table3, table4, table5

ROOT = harness.ROOT
SCRIPTS = {name: importlib.import_module(f"experiments.{name}") for name in (*(f"table{n}" for n in range(1, 8)), "esc50")}


def _parser_of(script, monkeypatch, capsys) -> argparse.ArgumentParser:
    """The parser a table script builds, caught as the script parses --help."""
    made = []

    def spy(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    real = harness.parser
    monkeypatch.setattr(harness, "parser", spy)
    with pytest.raises(SystemExit):
        script.main(["--help"])
    capsys.readouterr()
    return made[0]


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_quick_run_writes_under_results_quick_unless_told_otherwise(name, monkeypatch, capsys):
    parser = _parser_of(SCRIPTS[name], monkeypatch, capsys)
    assert parser.parse_args(["--quick"]).out == ROOT / "results" / "quick" / name
    assert parser.parse_args([]).out == ROOT / "results" / name
    assert str(parser.parse_args(["--quick", "--out", "elsewhere"]).out) == "elsewhere"


def test_results_quick_is_git_ignored_and_the_full_results_are_not():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")

    def ignored(path) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0

    assert ignored(harness.default_out("table1", quick=True) / "results.json")
    assert not ignored(harness.default_out("table1", quick=False) / "results.json")


def test_a_quick_run_generates_its_own_corpus_beside_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("ASMR_TOOLKIT_DATA", str(tmp_path))
    monkeypatch.setitem(asmr85.SIZES, "quick", asmr85.SIZES["small"])  # seconds, not minutes, of audio
    parent = harness.corpus(argparse.Namespace(data=None, quick=True), "asmr85")
    assert parent == tmp_path / "quick" and (parent / "asmr85" / ".complete").read_text() == "seed=0 size=quick\n"
    assert len(list((parent / "asmr85").glob("*.wav"))) == asmr85.SIZES["small"][0]
    assert not (tmp_path / "asmr85").exists()  # a full run would generate the default corpus, not take this one
    given = tmp_path / "mine"
    assert harness.corpus(argparse.Namespace(data=given, quick=True), "asmr85") == given


def _plan(module, size: str = "quick") -> list[dict]:
    return module.plan(np.random.default_rng([0, layout_key(module.__name__.rsplit(".", 1)[1])]), size)


def _slices(module, job: dict, length_s: float) -> int:
    return int(job["seconds"] * module.SR) // int(round(length_s * module.SR))


def test_the_quick_corpus_holds_what_the_quick_budgets_read_and_little_more():
    clip_s = MfccParams().clip_seconds
    recordings = _plan(asmr85)
    assert len(recordings) == len(_plan(asmr85, "default"))
    assert {_slices(asmr85, job, clip_s) for job in recordings} == {table1.QUICK.max_clips_per_recording}
    assert len(_plan(commonvoice)) == table1.QUICK.max_speech_clips

    mel = MelSliceParams()
    slice_s = mel.slice_samples / mel.sample_rate
    assert table2.QUICK.max_slices_per_file == table4.QUICK.slices == table3.QUICK.slices
    assert {_slices(deepasmr, job, slice_s) for job in _plan(deepasmr)} == {table4.QUICK.slices}
    assert {_slices(adell, job, slice_s) for job in _plan(adell)} == {table5.QUICK.max_slices_per_file}

    clips = {split: sum(job["split"] == split for job in _plan(fsd50k)) for split in ("train", "val", "eval")}
    wanted = lean_setup.QUICK.max_clips  # the first clips of each split; val is 15 % of the dev clips
    assert all(clips[s] >= wanted[s] for s in wanted) and clips["train"] < 1.1 * wanted["train"], clips
    assert clips["eval"] == wanted["eval"]


def test_portable_paths_name_no_machine_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("ASMR_TOOLKIT_DATA", str(tmp_path / "data"))
    text = (f"data: {tmp_path}/data (generated); glass {tmp_path}/data/quick/adell/a.wav; run {ROOT}/runs/t1; "
            f"root {ROOT}; not ours: {ROOT}2/x, {tmp_path}/database")
    assert harness.portable(text) == ("data: $ASMR_TOOLKIT_DATA (generated); glass $ASMR_TOOLKIT_DATA/quick/adell/a.wav; "
                                      f"run runs/t1; root .; not ours: {ROOT}2/x, {tmp_path}/database")
    monkeypatch.delenv("ASMR_TOOLKIT_DATA")
    assert data_root() == ROOT / "data" and harness.portable(f"{ROOT}/data/asmr85") == "data/asmr85"


def test_written_results_hold_repo_relative_paths(tmp_path):
    harness.write_results(tmp_path, f"data: {ROOT}/data/adell", {"run": str(ROOT / "runs" / "table5")}, quick=True)
    assert (tmp_path / "table.md").read_text() == "data: data/adell\n"
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["run"] == "runs/table5" and written["quick"] is True


def test_the_committed_results_name_no_machine_folder():
    for path in sorted((ROOT / "results").glob("*/*")):
        if path.suffix in (".json", ".md"):
            text = path.read_text()
            assert not any(f in text for f in ("/tmp/", "/work/", "/root/", "/home/", str(ROOT))), path


@pytest.fixture
def full_results(tmp_path):
    """A root with this checkout's full results of every rendered table, a README and a page that show them."""
    for t in render_docs.TABLES:
        shutil.copytree(ROOT / "results" / f"table{t.number}", tmp_path / "results" / f"table{t.number}",
                        ignore=shutil.ignore_patterns("*.png", "*.wav", "audio"))
    (tmp_path / "README.md").write_text("<!-- results:glance -->\n<!-- /results:glance -->\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("<!-- results:table1 -->\n<!-- /results:table1 -->\n")
    return tmp_path


def _rewrite(path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_render_docs_renders_full_runs_only(full_results, capsys):
    root = ["--root", str(full_results)]
    assert render_docs.main(root) == 0
    docs = [full_results / "README.md", full_results / "docs" / "page.md"]
    rendered = [doc.read_text() for doc in docs]
    assert "| full, " in rendered[0] and "Printed by a full run of" in rendered[1]

    # A quick run where quick runs go (results/quick/) is never read.
    quick = full_results / "results" / "quick" / "table1"
    shutil.copytree(full_results / "results" / "table1", quick)
    _rewrite(quick / "results.json", lambda d: d.update(quick=True, test={**d["test"], "accuracy": 0.123}))
    assert render_docs.main([*root, "--check"]) == 0

    # One written over a full run (--quick --out results/table1), or one that does not say, is refused.
    full = full_results / "results" / "table1" / "results.json"
    shutil.copy(quick / "results.json", full)
    capsys.readouterr()
    assert render_docs.main(root) == 1
    assert capsys.readouterr().err == ("render_docs: results/table1/results.json: a --quick run's results; only full "
                                       "runs are rendered (`python experiments/table1.py` without --quick writes them)\n")
    _rewrite(full, lambda d: d.pop("quick"))
    assert render_docs.main(root) == 1
    assert "does not say whether it is a --quick run's results" in capsys.readouterr().err
    assert [doc.read_text() for doc in docs] == rendered
