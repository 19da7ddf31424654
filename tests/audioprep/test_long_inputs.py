"""The other long-file consumers stream: `lean tag`, the decoded PCM store, `audioprep inspect` and the
mel generators' inputs; each copes with a recording cut short or broken part-way."""

from __future__ import annotations

import numpy as np
import pytest
from streaming_fixtures import recording

from audioprep import pcm_store
from audioprep.__main__ import main as audioprep_cli
from audioprep.datasets import Example, check_examples
from audioprep.io import load_audio, write_audio
from audioprep.segment import sliding_windows
from lean.params import LeanParams
from lean.tag import tag_audio, tag_file

SR_IN = 44100


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 3-minute stereo 44.1 kHz recording as wav and flac, and both cut in half."""
    root = tmp_path_factory.mktemp("long_inputs")
    audio = recording(180.0, seed=3)
    made = {}
    for ext in (".wav", ".flac"):
        made[ext] = write_audio(root / f"long{ext}", audio, SR_IN)
        data = made[ext].read_bytes()
        made["cut" + ext] = root / f"cut{ext}"
        made["cut" + ext].write_bytes(data[: len(data) // 2 + 7])
    return made


class LevelScorer:
    """Scores a window by its mean level and its peak: cheap, and different for every window."""

    labels = ["level", "peak", "negative"]

    def __call__(self, windows):
        level = np.abs(windows).mean(axis=1)
        return np.stack([level, np.abs(windows).max(axis=1), -level], axis=1)


def test_tag_streams_a_file_into_the_rows_of_the_whole_signal(files, capsys):
    audio, _ = load_audio(files[".wav"], sr=LeanParams().sample_rate)
    rows = tag_file(LevelScorer(), files[".wav"], top=2)
    assert len(rows) == len(sliding_windows(audio, 16000, 0.5)) == 359
    whole = tag_audio(LevelScorer(), audio, top=2)
    assert [r["labels"] for r in rows] == [r["labels"] for r in whole]
    assert [(r["start"], r["end"]) for r in rows] == [(r["start"], r["end"]) for r in whole]
    assert rows[-1]["end"] == 180.0 and capsys.readouterr().err == ""
    cut = tag_file(LevelScorer(), files["cut.wav"], top=1)
    assert cut[-1]["end"] == pytest.approx(90.0, abs=1e-3)
    assert capsys.readouterr().err == f"warning: {files['cut.wav']}: truncated: audio stops at 1:30.0 of 3:00.0\n"


def test_the_pcm_store_keeps_nothing_of_a_file_that_fails_part_way(files, tmp_path):
    examples = [Example(files[key], ("a",), key) for key in ("cut.flac", "cut.wav", "cut.flac")]
    store = pcm_store.decode(examples, 16000, tmp_path / "store", progress=False)
    assert store.kept == [1] and [path for path, _ in store.bad] == [files["cut.flac"]] * 2
    assert all(reason.startswith("cannot decode audio after 1:") for _, reason in store.bad)
    expected, _ = load_audio(files["cut.wav"], sr=16000)
    np.testing.assert_array_equal(store[0], pcm_store.to_pcm16(expected) / np.float32(pcm_store.PCM_SCALE))
    assert (tmp_path / "store" / pcm_store.SAMPLES).stat().st_size == 2 * len(expected)


def test_inspect_decodes_every_file_and_names_cut_and_broken_ones(files, tmp_path, capsys):
    checked = check_examples([Example(files[key], ("asmr",), key) for key in (".flac", "cut.wav", "cut.flac")])
    assert checked.seconds == {files[".flac"]: 180.0, files["cut.wav"]: pytest.approx(90.0, abs=1e-3)}
    assert checked.truncated == [f"{files['cut.wav']}: truncated: audio stops at 1:30.0 of 3:00.0"]
    (path, reason), = checked.bad
    assert path == files["cut.flac"] and reason.startswith("cannot decode audio after 1:")

    folder = tmp_path / "asmr85"
    folder.mkdir()
    for key in (".wav", "cut.wav", "cut.flac"):
        (folder / files[key].name).write_bytes(files[key].read_bytes())
    assert audioprep_cli(["inspect", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "files: 3 (2 readable)   hours: 0.07" in out  # 3 + 1.5 minutes
    assert f"    {folder / 'cut.flac'}: cannot decode audio after 1:" in out
    assert out.endswith("  truncated files (used as far as they go): 1\n"
                        f"    {folder / 'cut.wav'}: truncated: audio stops at 1:30.0 of 3:00.0\n")


def test_vary_and_blend_decode_only_the_seconds_they_use(files):
    """The cut flac fails to decode after 1:30; its first seconds are read as from the intact file."""
    from asmr_generate.mel.generate import recording_slices

    intact = recording_slices(files[".flac"], seconds=4.0)
    assert intact.shape == (4, 64, 64)
    np.testing.assert_allclose(recording_slices(files["cut.flac"], seconds=4.0), intact, atol=1e-4)
    with pytest.raises(Exception, match="cannot decode audio after"):
        load_audio(files["cut.flac"])  # what reading the whole file, as before, would do
