"""`python -m asmr_generate`: its parser and routing, then train / vary / blend / sample end to end on the
small generated corpus."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from asmr_generate.__main__ import COMMANDS, main
from audioprep.commands import build_parser
from audioprep.params import MelSliceParams

P = MelSliceParams()


@pytest.mark.parametrize("argv,shows", [
    (["-h"], "synth"),
    (["train", "-h"], "{ae,vae,cgan,wavenet,wavernn}"),
    (["train", "vae", "-h"], "--no-collapse-remedy"),
    (["train", "wavenet", "-h"], "--stereo"),
    (["synth", "-h"], "--temperature"),
])
def test_help_at_every_level(argv, shows, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0 and shows in capsys.readouterr().out


@pytest.mark.parametrize("argv,package", [
    (["train", "ae", "--out", "r"], "mel"), (["train", "cgan", "--out", "r"], "mel"),
    (["vary", "--model", ".", ".", "--out", "o"], "mel"), (["sample", "--model", ".", "--label", "x", "--out", "o"], "mel"),
    (["train", "wavernn", "--out", "r"], "wave"), (["synth", "--model", ".", "--out", "o.wav"], "wave"),
])
def test_each_command_and_model_kind_routes_to_its_package(argv, package):
    parser, argv = build_parser("asmr_generate", "", COMMANDS, argv)
    assert parser.parse_args(argv).run.startswith(f"asmr_generate.{package}.cli:")


@pytest.mark.parametrize("argv", [[], ["train"], ["train", "gan", "--out", "r"], ["train", "vae"]])
def test_incomplete_commands_exit_2(argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2


def test_the_parser_does_not_load_tensorflow():
    code = ("import sys; import asmr_generate.__main__ as m; from audioprep.commands import build_parser; "
            "build_parser('g', '', m.COMMANDS, ['train', 'vae', '-h']); assert 'tensorflow' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _samples(slices: int) -> int:
    """Length of k consecutive slices inverted as one spectrogram."""
    return (slices * P.frames - 1) * P.hop_length + P.n_fft


@pytest.fixture(scope="module")
def runs(small_layout, tmp_path_factory):
    root = small_layout("deepasmr")
    out = tmp_path_factory.mktemp("mel_runs")
    for name in ("vae", "cgan"):
        assert main(["train", name, "--data", str(root), "--epochs", "1", "--quick", "--out", str(out / name)]) == 0
    return root, out


def _wav(path):
    info = sf.info(path)
    audio, _ = sf.read(path)
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() > 0
    return info.samplerate, info.frames


def test_train_writes_a_run_folder_and_resumes(runs):
    root, out = runs
    for name in ("vae", "cgan"):
        assert {"best.keras", "last.keras", "history.csv", "params.json", "state.json"} <= {
            p.name for p in (out / name).iterdir()}
    assert main(["train", "vae", "--data", str(root), "--epochs", "2", "--quick", "--out", str(out / "vae"),
                 "--resume"]) == 0
    with (out / "vae" / "history.csv").open() as fh:
        assert [int(float(r["epoch"])) for r in csv.DictReader(fh)] == [0, 1]
    assert main(["train", "vae", "--data", str(root), "--epochs", "1", "--out", str(out / "vae")]) == 2


def test_vary_writes_input_and_variations(runs, tmp_path):
    root, out = runs
    source = sorted((root / "fingernail tapping").glob("*.wav"))[0]
    assert main(["vary", "--model", str(out / "vae"), str(source), "--n", "2", "--seconds", "2",
                 "--out", str(tmp_path)]) == 0
    for name in ("input", "variation_01", "variation_02"):
        assert _wav(tmp_path / f"{name}.wav") == (P.sample_rate, _samples(2))
    assert (tmp_path / "mels.png").stat().st_size > 1000


def test_blend_steps_write_the_whole_path(runs, tmp_path):
    root, out = runs
    a = sorted((root / "fingernail tapping").glob("*.wav"))[0]
    b = sorted((root / "brushing the microphone").glob("*.wav"))[0]
    assert main(["blend", "--model", str(out / "vae" / "best.keras"), str(a), str(b), "--steps", "3",
                 "--seconds", "1", "--out", str(tmp_path)]) == 0
    names = ["a", "b", "blend_alpha0.00", "blend_alpha0.50", "blend_alpha1.00"]
    for name in names:
        assert _wav(tmp_path / f"{name}.wav") == (P.sample_rate, _samples(1))
    assert (tmp_path / "mels.png").exists()


def test_sample_with_blended_labels(runs, tmp_path):
    _, out = runs
    assert main(["sample", "--model", str(out / "cgan"), "--label", "fingernail tapping", "--blend-with",
                 "brushing the microphone", "--n", "2", "--out", str(tmp_path)]) == 0
    wavs = sorted(tmp_path.glob("*.wav"))
    assert [w.name for w in wavs] == [f"fingernail-tapping+brushing-the-microphone_0{i}.wav" for i in (1, 2)]
    assert all(_wav(w) == (P.sample_rate, _samples(1)) for w in wavs)


def test_errors_are_one_line_and_name_the_flag(runs, tmp_path, capsys):
    _, out = runs
    assert main(["sample", "--model", str(out / "vae"), "--label", "mukbang", "--out", str(tmp_path)]) == 2
    assert main(["sample", "--model", str(out / "cgan"), "--label", "opera", "--out", str(tmp_path)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(lines) == 2 and "cGAN" in lines[0] and "'opera'" in lines[1]


def test_vary_from_a_start_reads_that_moment(runs, tmp_path, capsys):
    from asmr_generate.mel.generate import recording_slices
    from asmr_generate.mel.params import GenerateParams
    from audioprep.features import mel_slices
    from audioprep.io import load_audio

    root, out = runs
    source = sorted((root / "fingernail tapping").glob("*.wav"))[0]
    whole, _ = load_audio(source, sr=P.sample_rate)
    start = 1.5
    expected = mel_slices(whole[round(start * P.sample_rate):], P, hop=P.frames * P.hop_length)[:1]
    got = recording_slices(source, 1.0, GenerateParams(), start=start)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-3)
    assert not np.allclose(got, recording_slices(source, 1.0, GenerateParams()), atol=1e-3)
    assert main(["vary", "--model", str(out / "vae"), str(source), "--n", "1", "--seconds", "1",
                 "--start", str(start), "--out", str(tmp_path)]) == 0
    assert _wav(tmp_path / "input.wav") == (P.sample_rate, _samples(1))
    seconds = sf.info(source).duration
    assert main(["vary", "--model", str(out / "vae"), str(source), "--start", str(seconds + 1),
                 "--out", str(tmp_path / "late")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and source.name in err[0] and "past the end" in err[0]
    with pytest.raises(SystemExit) as exit_:
        main(["blend", "--model", str(out / "vae"), str(source), str(source), "--start-b", "-1", "--out", "neg"])
    assert exit_.value.code == 2 and "--start-b: must be a number >= 0" in capsys.readouterr().err
