"""A one-trial Talos scan over the deepasmr model writes its table and a best row `train` accepts."""

from __future__ import annotations

import argparse
import json

import pytest
import yaml

from asmr_classify import sweep, train
from audioprep.errors import UsageError


def test_one_trial_scan(small_layout, tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"epochs": 1, "round_limit": 1, "seed": 0, "max_slices_per_file": 3,
                                    "params": {"filters": [8], "dense_units": [16], "activation": ["elu"],
                                               "optimizer": ["rmsprop"]}}))
    args = argparse.Namespace(model="deepasmr", params=grid, data=small_layout("deepasmr"), out=tmp_path / "sweep",
                              epochs=None, round_limit=None, seed=None)
    assert sweep.main(args) == 0
    printed = capsys.readouterr().out
    table = (tmp_path / "sweep" / "results.csv").read_text().splitlines()
    assert len(table) == 2
    assert table[0].split(",")[:5] == ["activation", "dense_units", "filters", "optimizer", "val_accuracy"]
    best = json.loads((tmp_path / "sweep" / "best.json").read_text())
    assert best["best"] == {"filters": 8, "dense_units": 16, "activation": "elu", "optimizer": "rmsprop"}
    assert 0.0 <= best["score"]["val_accuracy"] <= 1.0
    command = printed.strip().splitlines()[-1]
    assert command.startswith("python -m asmr_classify train --model deepasmr")
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    parsed = parser.parse_args(command.split()[4:])
    assert (parsed.filters, parsed.dense_units, parsed.activation, parsed.optimizer) == (8, 16, "elu", "rmsprop")


def test_default_grid_is_valid_and_bad_grids_are_named(tmp_path):
    spec = sweep.read_grid(sweep.DEFAULT_GRID)
    assert {"activation", "dense_activation", "filters", "kernel_size", "dropout", "optimizer",
            "learning_rate", "batch_size"} <= set(spec["params"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("params: {filtres: [8]}\n")
    with pytest.raises(UsageError, match="filtres"):
        sweep.read_grid(bad)
