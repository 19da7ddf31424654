"""`python -m audioprep inspect` and `synth`: what they print, bad files named, exit status."""

from __future__ import annotations

import shutil

import pytest

from audioprep.__main__ import main


def test_inspect_names_planted_bad_files_and_exits_0(small_layout, tmp_path, capsys):
    root = tmp_path / "deepasmr"
    shutil.copytree(small_layout("deepasmr"), root)
    (root / "mukbang" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (root / "talking man" / "empty.wav").write_bytes(b"")
    assert main(["inspect", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"deepasmr: {root}")
    assert "files: 38 (36 readable)" in out
    assert "bad files: 2" in out
    assert f"{root / 'mukbang' / 'broken.wav'}: cannot decode audio" in out
    assert f"{root / 'talking man' / 'empty.wav'}: empty file (0 bytes)" in out
    assert "mukbang" in out and "whispering woman" in out


def test_inspect_a_folder_of_several_layouts(small_layout, tmp_path, capsys):
    for name in ("commonvoice", "fsd50k"):
        (tmp_path / name).symlink_to(small_layout(name), target_is_directory=True)
    assert main(["inspect", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"commonvoice: {tmp_path / 'commonvoice'}" in out and f"fsd50k: {tmp_path / 'fsd50k'}" in out
    assert "sources (recordings / speakers): 6" in out
    assert "Finger_snapping" in out and "bad files: 0" in out


def test_inspect_missing_or_unknown_folder_fails_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "nowhere: no such file or directory" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("no audio here")
    assert main(["inspect", str(tmp_path)]) == 2
    assert "no known dataset layout" in capsys.readouterr().err


def test_synth_command_writes_a_layout(tmp_path, capsys):
    from asmr_corpus.__main__ import main as corpus

    assert corpus(["--layout", "asmr85", "--size", "small", "--out", str(tmp_path)]) == 0
    assert f"wrote {tmp_path / 'asmr85'} (4 files, seed 0, size small)" in capsys.readouterr().out
    assert len(list((tmp_path / "asmr85").glob("*.wav"))) == 4
