"""experiments.harness: budgets, atomic result files, the shared flags, and both ways to run a table script."""

from __future__ import annotations

import argparse
import json
import runpy
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from experiments import harness, table1, table2, table3, table4, table5, table6, table7

ROOT = Path(__file__).resolve().parents[2]
TABLES = [table1, table2, table3, table4, table5, table6, table7]


@dataclass(frozen=True)
class _Budget:
    epochs: int
    slices: int


def test_budget_is_quick_or_full_with_given_flags_replacing_fields():
    full, quick = _Budget(150, 30), _Budget(5, 8)
    assert harness.budget(argparse.Namespace(quick=False), full, quick, epochs=None) == full
    assert harness.budget(argparse.Namespace(quick=True), full, quick, epochs=None, slices=2) == _Budget(5, 2)


def test_write_results_writes_both_files_or_neither(tmp_path):
    harness.write_results(tmp_path, "# table", {"accuracy": 0.5}, quick=False)
    assert (tmp_path / "table.md").read_text() == "# table\n"
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["accuracy"] == 0.5 and written["quick"] is False and "tensorflow" in written["environment"]
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError):
        harness.write_results(tmp_path, "# new table", circular, quick=False)
    assert (tmp_path / "table.md").read_text() == "# table\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "results.json", "table.md"]


@pytest.mark.parametrize("table", TABLES, ids=lambda m: m.__name__.split(".")[-1])
def test_common_flags_and_a_missing_data_folder(table, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        table.main(["--quick", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert f"--data: {tmp_path / 'nowhere'}: no such file or directory" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_table_runs_as_a_script_from_anywhere(tmp_path):
    """`python experiments/tableN.py` puts experiments/ first on sys.path; the package still imports."""
    done = subprocess.run([sys.executable, str(ROOT / "experiments" / "table6.py"), "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert all(flag in done.stdout for flag in ("--data", "--quick", "--out", "--runs", "--yamnet", "--variants"))


def test_a_table_runs_as_a_module(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["table7", "--help"])
    monkeypatch.delitem(sys.modules, "experiments.table7")  # run it afresh as __main__, as `-m` does
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("experiments.table7", run_name="__main__")
    assert exit_.value.code == 0 and "--repeats" in capsys.readouterr().out


def test_a_budget_flag_out_of_range_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        table4.main(["--quick", "--epochs", "0"])
    assert exit_.value.code == 2 and "--epochs: must be an integer >= 1, not 0" in capsys.readouterr().err
