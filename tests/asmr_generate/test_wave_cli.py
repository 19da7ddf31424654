"""`asmr_generate train wavenet|wavernn` and `synth` end to end on the small generated adell corpus."""

from __future__ import annotations

import json

import keras
import pytest
import soundfile as sf

from asmr_generate.__main__ import main

TINY = {
    "wavenet": ["layers_per_stack=3", "stacks=1", "residual_channels=8", "skip_channels=8"],
    "wavernn": ["hidden=16", "output_hidden=16", "embedding=4"],
}
RUN = ["segment_samples=64", "batch_size=2", "steps_per_epoch=2"]


def _train(model, data, out, *extra):
    sets = [arg for pair in TINY[model] + RUN for arg in ("--set", pair)]
    return main(["train", model, "--data", str(data), "--epochs", "1", "--sample-every", "0", *sets,
                 "--out", str(out), *extra])


def _synth(run, out, seconds, *extra):
    return main(["synth", "--model", str(run), "--seconds", str(seconds), "--temperature", "0.8", "--out", str(out),
                 *extra])


def test_wavenet_train_resume_samples_and_synth(small_layout, tmp_path, capsys):
    keras.utils.set_random_seed(0)
    data, run = small_layout("adell"), tmp_path / "run"
    assert _train("wavenet", data, run, "--trigger", "tapping/glass", "--sample-every", "2",
                  "--sample-seconds", "0.01") == 0
    for name in ("best.keras", "last.keras", "history.csv", "params.json", "state.json", "samples/step_000002.wav"):
        assert (run / name).exists(), name
    resume = ["train", "wavenet", "--data", str(data), "--epochs", "2", "--out", str(run), "--resume"]
    assert main([*resume, "--set", "residual_channels=16"]) == 2  # another setting is another run
    assert "residual_channels 8 there, 16 asked" in capsys.readouterr().err
    same = [arg for pair in TINY["wavenet"] + RUN for arg in ("--set", pair)]  # the run's own values pass
    assert main([*resume, *same, "--sample-every", "2", "--sample-seconds", "0.01"]) == 0
    assert json.loads((run / "state.json").read_text())["epoch"] == 2
    assert (run / "history.csv").read_text().count("\n") == 3  # header + epochs 0 and 1, one history
    assert (run / "samples/step_000004.wav").exists()  # the step count carried over the resume
    out = tmp_path / "x.wav"
    assert _synth(run, out, 0.05) == 0
    info = sf.info(str(out))
    assert (info.samplerate, info.frames, info.channels) == (8000, 400, 1)
    assert _synth(run, tmp_path / "y.wav", 0.05, "--trigger", "brushing/cork") == 2
    assert "trained on tapping/glass only" in capsys.readouterr().err


@pytest.mark.parametrize("model,extra,trigger,channels,rate", [
    ("wavenet", ["--stereo"], "brushing/cork", 2, 8000),
    ("wavernn", [], "tapping/wood", 1, 22050),
])
def test_conditioned_train_then_synth(small_layout, tmp_path, capsys, model, extra, trigger, channels, rate):
    keras.utils.set_random_seed(0)
    run = tmp_path / "run"
    assert _train(model, small_layout("adell"), run, "--conditioned", *extra) == 0
    record = json.loads((run / "params.json").read_text())
    setup = record["setup"]
    assert setup["kind"] == model and setup["conditioned"] and len(record["classes"]) == 21
    assert (run / "embeddings" / "epoch_000.npy").exists()
    out = tmp_path / "x.wav"
    assert _synth(run, out, 0.02, "--trigger", trigger) == 0
    info = sf.info(str(out))
    assert (info.samplerate, info.frames, info.channels) == (rate, round(0.02 * rate), channels)
    assert _synth(run, out, 0.02) == 2
    assert "--trigger: the model is conditioned on brushing/cork" in capsys.readouterr().err


def test_usage_errors_are_one_line(small_layout, tmp_path, capsys):
    data = small_layout("adell")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "state.json").write_text("{}")
    assert main(["train", "wavenet", "--data", str(data), "--trigger", "tapping/glass", "--out", str(tmp_path / "busy")]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "wavenet", "--data", str(data), "--trigger", "tapping/silk", "--out", str(tmp_path / "a")]) == 2
    assert "--trigger tapping/silk: not in" in capsys.readouterr().err
    assert main(["train", "wavenet", "--triggers", "tapping/glass", "--out", str(tmp_path / "b")]) == 2
    assert "--triggers: only with --conditioned" in capsys.readouterr().err
    assert main(["train", "wavernn", "--set", "nope=1", "--out", str(tmp_path / "b")]) == 2
    assert "--set nope=1" in capsys.readouterr().err
    assert main(["synth", "--model", str(tmp_path / "busy"), "--out", str(tmp_path / "c.wav")]) == 2
    assert "params.json: missing" in capsys.readouterr().err
