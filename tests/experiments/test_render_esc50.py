"""render_docs' results:esc50 block: results/esc50/table.md included as esc50.py printed it, only from a full run."""

from __future__ import annotations

import json

import pytest

from experiments import render_docs

TABLE = "# ESC-50 protocol\n\n| model | ours |\n| --- | --- |\n| (d) 1D CNN on mel | 97.5 ± 1.2 |\n"


def _repo(tmp_path, quick):
    folder = tmp_path / "results" / "esc50"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"quick": quick, "results": {}}))
    (folder / "table.md").write_text(TABLE)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "experiments.md").write_text("## ESC-50\n\n<!-- results:esc50 -->\n<!-- /results:esc50 -->\n")
    (tmp_path / "README.md").write_text("no blocks\n")
    return tmp_path


def test_a_full_run_is_included_under_the_pages_heading(tmp_path):
    repo = _repo(tmp_path, quick=False)
    assert render_docs.main(["--root", str(repo)]) == 0
    page = (repo / "docs" / "experiments.md").read_text()
    assert "Printed by a full run of `python experiments/esc50.py` into [`results/esc50/table.md`](../results/esc50/table.md)" in page
    assert "### ESC-50 protocol" in page and "| (d) 1D CNN on mel | 97.5 ± 1.2 |" in page
    assert render_docs.main(["--root", str(repo), "--check"]) == 0


@pytest.mark.parametrize("quick", [True, None])
def test_a_quick_or_unlabelled_run_is_refused_in_one_line(tmp_path, capsys, quick):
    repo = _repo(tmp_path, quick=quick)
    assert render_docs.main(["--root", str(repo)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("render_docs: results/esc50/results.json: ")
    assert "`python experiments/esc50.py` without --quick writes them" in err[0]
    assert "(d) 1D CNN" not in (repo / "docs" / "experiments.md").read_text()
