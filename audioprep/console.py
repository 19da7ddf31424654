"""What a command prints: quiet by default about the libraries' start-up, `--verbose` to see it, `--quiet` for scripts.

TensorFlow's C++ runtime writes its start-up lines (CUDA probing, CPU features, `failed call to cuInit` on
a machine without a GPU) straight to file descriptor 2 before its logging is set up, so no log level
reaches them. The import hook below silences exactly those: it points descriptor 2 at a temporary file
while `tensorflow` is imported and its devices are first listed, and replays what was caught if the
import fails. Everything else the program writes to stderr is untouched.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass

VERBOSE, QUIET = "--verbose", "--quiet"
# Keras's note when a model is loaded for inference without its optimizer: expected, nothing to act on.
HARMLESS_WARNINGS = ("Skipping variable loading for optimizer",)


@dataclass(frozen=True)
class Output:
    """How chatty this process is: `verbose` shows the libraries' own lines, `quiet` hides progress too."""

    verbose: bool = False
    quiet: bool = False


_mode = Output()


def mode() -> Output:
    return _mode


def progress_verbose() -> int | str:
    """Keras's `verbose` for fit/predict: bars on a terminal, one line per epoch in a file or pipe, none if quiet."""
    if _mode.quiet:
        return 0
    return "auto" if sys.stderr.isatty() and sys.stdout.isatty() else 2


def show_progress() -> bool:
    """Whether tqdm-style progress bars are drawn: only on a terminal, never with --quiet."""
    return not _mode.quiet and sys.stderr.isatty()


def bar(iterable=None, *, enabled: bool = True, **kwargs):
    """A tqdm progress bar drawn only on a terminal (and not with --quiet); a file or pipe gets no bar."""
    from tqdm import tqdm

    return tqdm(iterable, disable=not (enabled and show_progress()), **kwargs)


@contextlib.contextmanager
def _descriptor_2_caught():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield caught
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            sys.stderr.write(caught.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def native_lines_caught():
    """Lines a native library writes to stderr inside the block (converters, delegates) are dropped, unless the
    block fails (they are replayed before the error) or the command runs with --verbose."""
    if _mode.verbose:
        yield
        return
    with _descriptor_2_caught():
        yield


class _QuietTensorflowImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `tensorflow` as usual, then runs its import (and first device listing) with descriptor 2 caught."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        sys.meta_path.remove(self)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the lines that do go through TensorFlow's logging
        with _descriptor_2_caught():
            self._loader.exec_module(module)
            module.config.list_physical_devices()  # device probing prints its own lines once, here


def configure(argv: list[str]) -> list[str]:
    """Take `--verbose` / `--quiet` out of `argv` and set this process's output mode; returns the rest."""
    global _mode
    _mode = Output(verbose=VERBOSE in argv, quiet=QUIET in argv and VERBOSE not in argv)
    if not _mode.verbose:
        for message in HARMLESS_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        quiet_tensorflow_import()
    return [a for a in argv if a not in (VERBOSE, QUIET)]


def arm_quiet_import(argv: list[str] | None = None) -> None:
    """Quiet TensorFlow's later import unless the command line (`sys.argv` by default) asks for --verbose."""
    if VERBOSE not in (sys.argv if argv is None else argv):
        quiet_tensorflow_import()


def quiet_tensorflow_import() -> None:
    """Silence TensorFlow's start-up lines when it is imported later in this process (no-op once it is)."""
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorflowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorflowImport())
