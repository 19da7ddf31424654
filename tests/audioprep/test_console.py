"""audioprep.console: a command's default output has no TensorFlow start-up lines and no per-step bars in a pipe."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A command through run_cli that imports TensorFlow, fits one epoch and warns as Keras does on loading.
COMMAND = """
import sys, warnings
from audioprep.cli import run_cli
from audioprep import console

def main(argv):
    import keras
    import numpy as np
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=2, batch_size=4, verbose=console.progress_verbose())
    warnings.warn("Skipping variable loading for optimizer 'adam', because it has 2 variables")
    print("mode:", console.mode())

sys.exit(run_cli(main))
"""


def _run(*flags: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", COMMAND, *flags], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def test_default_output_is_one_line_per_epoch_and_no_library_chatter():
    done = _run()
    assert done.stderr == ""
    epochs = [line for line in done.stdout.splitlines() if "loss:" in line]
    assert len(epochs) == 2 and all("\x1b" not in line and "\r" not in line for line in epochs)
    assert "mode: Output(verbose=False, quiet=False)" in done.stdout


def test_quiet_hides_progress_and_verbose_shows_the_warning():
    quiet = _run("--quiet")
    assert quiet.stderr == "" and "loss:" not in quiet.stdout
    assert "mode: Output(verbose=False, quiet=True)" in quiet.stdout
    verbose = _run("--verbose")
    assert "Skipping variable loading for optimizer" in verbose.stderr
    assert "mode: Output(verbose=True, quiet=False)" in verbose.stdout


@pytest.mark.parametrize("flag", ["--verbose", "--quiet"])
def test_the_flags_are_taken_out_before_the_command_parses(flag):
    from audioprep import console

    assert console.configure(["train", flag, "--epochs", "2"]) == ["train", "--epochs", "2"]
    console.configure([])
