"""Sources of a labelled folder: --group-by, sources.csv, sub-folders as recordings, byte-identical copies,
and what `inspect` reports about them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from audioprep.__main__ import main as audioprep_main
from audioprep.datasets import (
    ReadOptions,
    detect_layout,
    label_tree,
    read_layout,
    read_layout_with_duplicates,
    read_trigger_folders,
    split_by_source,
)
from audioprep.errors import BadFileError, UsageError
from audioprep.io import write_audio


def tone(seed: int, seconds: float = 0.3, sr: int = 8000) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * sr))).astype(np.float32)


def write(path, seed):
    write_audio(path, tone(seed), 8000)


@pytest.fixture
def takes(tmp_path):
    """ESC-style names {fold}-{source}-{take}: 4 sources x 3 takes per label."""
    root = tmp_path / "takes"
    for li, label in enumerate(("tapping", "crinkling")):
        for src in range(4):
            for take in "ABC":
                write(root / label / f"1-{li}{src}0-{take}.wav", seed=100 * li + 10 * src + ord(take))
    return root


def sides(split):
    seen = {}
    for name, members in split.items():
        for ex in members:
            assert seen.setdefault(ex.source, name) == name, ex.source
    return seen


def test_group_by_names_the_source_and_keeps_takes_together(takes):
    plain = read_trigger_folders(takes)
    assert len({e.source for e in plain}) == 24  # every file its own source: takes land on both sides
    grouped = read_trigger_folders(takes, group_by=r"^\d+-(\d+)-")
    assert len({e.source for e in grouped}) == 8 and {e.source for e in grouped} >= {"000", "130"}
    split = split_by_source(grouped, seed=0)
    assert len(sides(split)) == 8
    assert [len(split[s]) for s in ("train", "val", "test")] == [12, 6, 6]


def test_group_by_flag_errors(takes):
    with pytest.raises(UsageError, match=r"--group-by '\^\\d\+': needs a capture group"):
        ReadOptions(group_by=r"^\d+")
    with pytest.raises(UsageError, match="not a regular expression"):
        ReadOptions(group_by="(")
    with pytest.raises(UsageError, match=r"does not match .*crinkling/1-100-A.wav"):
        read_trigger_folders(takes, group_by=r"^x(\d)")


def test_sources_csv_wins_and_bad_rows_name_their_line(takes):
    (takes / "sources.csv").write_text("file,source\ntapping/1-000-A.wav,video7\ncrinkling/1-100-A.wav,video7\n")
    sources = {e.path.name: e.source for e in read_trigger_folders(takes)}
    assert sources["1-000-A.wav"] == sources["1-100-A.wav"] == "video7" and sources["1-000-B.wav"] == "tapping/1-000-B"
    (takes / "sources.csv").write_text("file,source\ntapping/1-000-A.wav,v\ntapping/gone.wav,v\n")
    with pytest.raises(BadFileError, match=r"sources.csv:3: tapping/gone.wav: no such file"):
        read_trigger_folders(takes)


def test_sub_folders_are_recordings_of_their_label_not_labels(tmp_path, capsys):
    root = tmp_path / "mine"
    for i in range(3):
        write(root / "tapping" / f"t{i}.wav", i)
        write(root / "whispering" / f"w{i}.wav", 10 + i)
        write(root / "tapping" / "macro-output" / f"m{i}.wav", 20 + i)
    assert detect_layout(root) == "deepasmr"
    examples = read_layout(root)
    assert {e.label for e in examples} == {"tapping", "whispering"}
    macro = [e for e in examples if e.path.parent.name == "macro-output"]
    assert len(macro) == 3 and {e.source for e in macro} == {"tapping/macro-output"}
    assert label_tree(root, examples) == [
        "tapping/  (6 files)", "  macro-output/  (one recording of tapping: 3 files)", "whispering/  (3 files)"]
    assert {e.label for e in read_layout(root, options=ReadOptions(label_depth=2))} == {"tapping/macro-output"}
    assert audioprep_main(["inspect", str(root)]) == 0
    out = capsys.readouterr().out
    assert "  label tree (label depth 1; --label-depth changes it):\n    tapping/  (6 files)\n" in out
    assert "    tapping                               6    0.00 h        6      4\n" in out
    assert "  shorter than one ~1 s slice: 9 files (the trainers repeat-pad each to one)\n" in out


def test_byte_identical_copies_become_one_source(takes, capsys):
    copy = takes / "crinkling" / "1-999-A.wav"
    shutil.copy(takes / "tapping" / "1-000-A.wav", copy)
    examples, duplicates = read_layout_with_duplicates(takes)
    assert duplicates == [[copy, takes / "tapping" / "1-000-A.wav"]]
    merged = {e.path: e.source for e in examples}
    assert merged[copy] == merged[takes / "tapping" / "1-000-A.wav"] == "crinkling/1-999-A"
    for seed in range(5):
        sides(split_by_source(examples, seed=seed))
    assert audioprep_main(["inspect", str(takes)]) == 0
    out = capsys.readouterr().out
    assert f"  byte-identical files: 1 groups (each group kept to one source in splits)\n    {copy} = " in out


def test_inspect_counts_sources_per_label_and_warns_of_a_label_without_test_source(takes, capsys):
    assert audioprep_main(["inspect", str(takes), "--group-by", r"^\d+-(\d+)-"]) == 0
    out = capsys.readouterr().out
    assert "sources (recordings / speakers): 8" in out and "warning" not in out
    for src in ("1", "2", "3"):
        for take in "ABC":
            (takes / "crinkling" / f"1-1{src}0-{take}.wav").unlink()
    assert audioprep_main(["inspect", str(takes), "--group-by", r"^\d+-(\d+)-"]) == 0
    out = capsys.readouterr().out
    assert "    crinkling                             3    0.00 h        3      1\n" in out
    assert "  warning: 'crinkling' has no val source in the split (1 sources in all)" in out
    assert "  warning: 'crinkling' has no test source in the split (1 sources in all)" in out
    assert "  warning: the test split holds one label" in out
