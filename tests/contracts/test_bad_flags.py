"""Every CLI rejects an out-of-range flag while parsing (exit 2, one line naming the flag and its range), before any work."""

from __future__ import annotations

import subprocess
import sys

import pytest

from asmr_classify.__main__ import main as classify
from asmr_corpus.__main__ import main as corpus
from asmr_generate.__main__ import main as generate
from audioprep.cli import check_top, run_cli
from audioprep.errors import BadFileError, UsageError
from lean.__main__ import main as lean

AT_LEAST_1, POSITIVE, FRACTION, UNIT = ">= 1", "> 0", "[0, 1)", "[0, 1]"

# (cli, arguments before the bad flag, the flag, its bad value, what the message must say)
CASES = [
    (corpus, ["--layout", "deepasmr", "--out", "{tmp}"], "--workers", "0", AT_LEAST_1),
    (classify, ["train", "--model", "deepasmr"], "--epochs", "0", AT_LEAST_1),
    (classify, ["train", "--model", "deepasmr"], "--epochs", "-1", AT_LEAST_1),
    (classify, ["train", "--model", "deepasmr"], "--epochs", "two", "not an integer"),
    (classify, ["train", "--model", "deepasmr"], "--batch-size", "0", AT_LEAST_1),
    (classify, ["train", "--model", "deepasmr"], "--learning-rate", "0", POSITIVE),
    (classify, ["train", "--model", "deepasmr"], "--learning-rate", "nan", "not a finite number"),
    (classify, ["train", "--model", "deepasmr"], "--dropout", "1", FRACTION),
    (classify, ["train", "--model", "deepasmr"], "--patience", "-1", ">= 0"),
    (classify, ["train", "--model", "deepasmr"], "--max-slices-per-file", "0", AT_LEAST_1),
    (classify, ["predict", "--model", "{tmp}", "{file}"], "--overlap", "2", FRACTION),
    (classify, ["predict", "--model", "{tmp}", "{file}"], "--overlap", "-0.5", FRACTION),
    (classify, ["sweep"], "--epochs", "0", AT_LEAST_1),
    (classify, ["sweep"], "--round-limit", "0", AT_LEAST_1),
    (classify, ["catalog", "{tmp}", "--model", "{tmp}", "--db", "{tmp}/c.db"], "--overlap", "1", FRACTION),
    (classify, ["catalog", "{tmp}", "--model", "{tmp}", "--db", "{tmp}/c.db"], "--workers", "0", AT_LEAST_1),
    (classify, ["catalog", "{tmp}", "--model", "{tmp}", "--db", "{tmp}/c.db"], "--threshold", "1.5", UNIT),
    (classify, ["catalog", "query", "--db", "{tmp}/c.db"], "--min-confidence", "-0.1", UNIT),
    (classify, ["catalog", "remerge", "--db", "{tmp}/c.db"], "--threshold", "2", UNIT),
    (generate, ["train", "ae", "--out", "{tmp}/r"], "--epochs", "0", AT_LEAST_1),
    (generate, ["train", "vae", "--out", "{tmp}/r"], "--batch-size", "0", AT_LEAST_1),
    (generate, ["train", "vae", "--out", "{tmp}/r"], "--latent-dim", "0", AT_LEAST_1),
    (generate, ["train", "ae", "--out", "{tmp}/r"], "--decoder-depth", "1", ">= 2"),
    (generate, ["train", "wavenet", "--out", "{tmp}/r"], "--epochs", "-3", AT_LEAST_1),
    (generate, ["train", "wavernn", "--out", "{tmp}/r"], "--sample-seconds", "0", POSITIVE),
    (generate, ["train", "wavernn", "--out", "{tmp}/r"], "--sample-every", "-1", ">= 0"),
    (generate, ["synth", "--model", "{tmp}", "--out", "{tmp}/a.wav"], "--seconds", "0", POSITIVE),
    (generate, ["synth", "--model", "{tmp}", "--out", "{tmp}/a.wav"], "--temperature", "0", POSITIVE),
    (generate, ["synth", "--model", "{tmp}", "--out", "{tmp}/a.wav"], "--temperature", "-1", POSITIVE),
    (generate, ["vary", "{file}", "--model", "{tmp}", "--out", "{tmp}/o"], "--n", "0", AT_LEAST_1),
    (generate, ["vary", "{file}", "--model", "{tmp}", "--out", "{tmp}/o"], "--seconds", "-1", POSITIVE),
    (generate, ["blend", "{file}", "{file}", "--model", "{tmp}", "--out", "{tmp}/o"], "--alpha", "1.5", UNIT),
    (generate, ["blend", "{file}", "{file}", "--model", "{tmp}", "--out", "{tmp}/o"], "--steps", "1", ">= 2"),
    (generate, ["sample", "--label", "x", "--model", "{tmp}", "--out", "{tmp}/o"], "--n", "0", AT_LEAST_1),
    (lean, ["train"], "--epochs", "0", AT_LEAST_1),
    (lean, ["train"], "--epochs", "-1", AT_LEAST_1),
    (lean, ["train"], "--batch-size", "0", AT_LEAST_1),
    (lean, ["train"], "--learning-rate", "-1e-4", POSITIVE),
    (lean, ["train"], "--pretrain-epochs", "0", AT_LEAST_1),
    (lean, ["train"], "--max-patches-per-clip", "0", AT_LEAST_1),
    (lean, ["export", "--model", "{file}"], "--calibration", "0", AT_LEAST_1),
    (lean, ["export", "--model", "{file}"], "--eval-clips", "0", AT_LEAST_1),
    (lean, ["tag", "{file}", "--model", "{file}"], "--top", "0", AT_LEAST_1),
    (lean, ["tag", "{file}", "--model", "{file}"], "--threads", "0", AT_LEAST_1),
]


@pytest.mark.parametrize(("cli", "before", "flag", "value", "says"), CASES,
                         ids=[f"{c[0].__module__.split('.')[0]}-{c[1][0]}{c[2]}={c[3]}" for c in CASES])
def test_a_bad_flag_stops_the_command_with_a_line_naming_it(cli, before, flag, value, says, tmp_path, capsys):
    (tmp_path / "a.wav").write_bytes(b"")
    argv = [a.format(tmp=tmp_path, file=tmp_path / "a.wav") for a in before] + [f"{flag}={value}"]
    with pytest.raises(SystemExit) as stop:
        cli(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {flag}" in err and says in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]  # nothing was written


def test_from_the_shell_too(tmp_path):
    """The in-process table holds for a real process (TensorFlow-free here, so it stays fast)."""
    argv = ["--layout", "deepasmr", "--out", str(tmp_path), "--workers", "0"]
    done = subprocess.run([sys.executable, "-m", "asmr_corpus", *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "argument --workers: must be an integer >= 1, not 0" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_top_is_checked_against_the_model_s_classes():
    assert check_top(3, 3) == 3
    with pytest.raises(UsageError, match=r"^--top 4: the model has 3 classes; pick 1\.\.3$"):
        check_top(4, 3)


def _failing(error):
    def main(argv):
        raise error

    return main


@pytest.mark.parametrize(("error", "code", "line"), [
    (BadFileError("run/state.json", "empty"), 2, "error: run/state.json: empty"),
    (PermissionError(13, "Permission denied", "x/a.wav"), 2, "error: x/a.wav: permission denied"),
    (RuntimeError("boom\nmore"), 1, "error: RuntimeError: boom (rerun with --debug for the traceback)"),
])
def test_run_cli_prints_one_line_and_debug_shows_the_traceback(error, code, line, capsys):
    assert run_cli(_failing(error), ["x"]) == code
    assert capsys.readouterr().err.splitlines() == [line]
    with pytest.raises(type(error)):
        run_cli(_failing(error), ["x", "--debug"])


def test_tensorflow_retracing_warnings_are_filtered_by_run_cli():
    """One trace per freshly loaded model is the intended cost; other TensorFlow warnings still show."""
    import logging

    assert run_cli(lambda argv: 0, []) == 0
    logger = logging.getLogger("tensorflow")

    def shown(message: str) -> bool:
        return bool(logger.filter(logging.LogRecord("tensorflow", logging.WARNING, __file__, 0, message, None, None)))

    assert not shown("5 out of the last 5 calls to <function f> triggered tf.function retracing. Tracing is expensive")
    assert shown("Skipping variable loading for optimizer 'adam'")
