"""ESC-50 as a layout: the generated stand-in, the adapter (folds, sources, ESC-10), its protocol's splits."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asmr_corpus.esc50 import CATEGORIES, COLUMNS
from audioprep.__main__ import main as audioprep_main
from audioprep.datasets import (
    Example,
    ReadOptions,
    detect_layout,
    fold_split,
    folds,
    make_split,
    read_esc50,
    read_layout,
)
from audioprep.errors import BadFileError, UsageError
from audioprep.slices import audio_slice_sets


@pytest.fixture
def esc50(small_layout):
    return small_layout("esc50")


def test_generated_corpus_has_the_real_layout(esc50):
    assert detect_layout(esc50) == "esc50"
    assert (esc50 / "meta" / "esc50.csv").read_text().splitlines()[0] == ",".join(COLUMNS)
    examples = read_esc50(esc50)
    assert len(examples) == 6 * 5 * 2 and {e.label for e in examples} == set(CATEGORIES)
    assert folds(examples) == [1, 2, 3, 4, 5]
    by_source = defaultdict(set)
    for e in examples:
        fold, src, take, target = e.path.stem.split("-")
        assert (int(fold), int(target)) == (e.fold, CATEGORIES[e.label][0]) and e.source == f"esc50/{src}"
        by_source[e.source].add((e.fold, take))
    assert all(len(takes) == 2 and len({f for f, _ in takes}) == 1 for takes in by_source.values())
    audio, sr = sf.read(str(examples[0].path))
    assert (sr, audio.shape) == (44100, (5 * 44100,))
    assert audio[-2000:].tolist() == [0.0] * 2000  # padded with digital silence, as the real clips are
    assert np.abs(audio[:44100]).max() > 0.01


def test_esc10_switch_keeps_its_two_categories(esc50):
    subset = read_layout(esc50, options=ReadOptions(esc10=True))
    assert {e.label for e in subset} == {"rain", "crackling_fire"} and len(subset) == 20


def test_fold_protocol_keeps_every_source_on_one_side(esc50):
    examples = read_esc50(esc50)
    for k in folds(examples):
        split = fold_split(examples, k)
        assert {e.fold for e in split["test"]} == {k} and split["val"] == []
        assert len(split["train"]) == 48 and len({e.label for e in split["test"]}) == 6
        assert not {e.source for e in split["train"]} & {e.source for e in split["test"]}
    with_val = make_split(examples, test_fold=3, val_fold=4)
    assert [len(with_val[s]) for s in ("train", "val", "test")] == [36, 12, 12]
    assert make_split(examples)["test"] == fold_split(examples, 1)["test"]
    with pytest.raises(UsageError, match="--test-fold 6: the dataset's folds are 1, 2, 3, 4, 5"):
        fold_split(examples, 6)
    with pytest.raises(UsageError, match="is the test fold"):
        fold_split(examples, 2, 2)
    with pytest.raises(UsageError, match="no published folds"):
        make_split([Example(Path("a.wav"), ("tapping",), "tapping/a")], test_fold=1)


def test_slices_follow_the_folds_and_keep_their_clip(esc50):
    sets = audio_slice_sets(esc50, 8000, 1.0, max_slices_per_file=2, cache=False, test_fold=2)
    test = sets["test"]
    assert len(test) == 12 * 2 and len(set(test.files)) == 12 and len(sets["val"]) == 0
    assert all(f.split("/")[-1].startswith("2-") for f in test.files)
    assert test.counts() == [4] * 6 and sets["train"].counts() == [16] * 6


def test_bad_table_rows_name_their_line(esc50, tmp_path, capsys):
    root = tmp_path / "esc50"
    shutil.copytree(esc50, root)
    table = root / "meta" / "esc50.csv"
    lines = table.read_text().splitlines()
    lines[3] = lines[3].replace(",1,", ",one,", 1)
    table.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadFileError, match=r"esc50.csv:4: fold 'one' is not an integer"):
        read_esc50(root)
    assert audioprep_main(["inspect", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {table}:4: fold 'one' is not an integer"]
    table.write_text("filename,fold,category\n")
    with pytest.raises(BadFileError, match=r"esc50.csv:1: no 'target', 'esc10', 'src_file', 'take' column"):
        read_esc50(root)


def test_inspect_reports_folds_and_sources(esc50, capsys):
    assert audioprep_main(["inspect", str(esc50), "--esc10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"esc50: {esc50}\n  files: 20 (20 readable)")
    assert "published folds (clips): {1: 4, 2: 4, 3: 4, 4: 4, 5: 4}" in out
    assert "test examples (clips; test fold 1 of the published folds): 4" in out
    assert "    rain                                 10    0.01 h       10      5" in out
    assert "warning" not in out


def test_train_runs_one_fold_without_validation_and_scores_clips(esc50, tmp_path, capsys):
    from asmr_classify.__main__ import main as classify_main

    out = tmp_path / "run"
    assert classify_main(["train", "--model", "cnn1d", "--data", str(esc50), "--esc10", "--test-fold", "2",
                          "--epochs", "1", "--max-slices-per-file", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "clip accuracy: " in printed and "(4 clips, slice probabilities averaged)" in printed
    params = json.loads((out / "params.json").read_text())
    assert params["clips"] == {"train": 16, "val": 0, "test": 4} and params["generated_corpus"] is True
    assert params["classes"] == ["crackling_fire", "rain"]
    assert params["degenerate_split"] is None
    assert classify_main(["train", "--model", "cnn1d", "--data", str(esc50), "--test-fold", "7",
                          "--out", str(tmp_path / "bad")]) == 2
    assert "error: --test-fold 7: the dataset's folds are 1, 2, 3, 4, 5" in capsys.readouterr().err
