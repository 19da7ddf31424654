"""Command-line plumbing every package shares: one-line errors on stderr, non-zero exit, range-checked flags.

`run_cli` turns any failure into one `error: ...` line (exit 2 for bad input, 1 for anything else);
`--debug` anywhere on the command line shows the traceback instead; `--verbose` and `--quiet`
(audioprep.console) set how much the libraries and progress bars print. The argparse types below check a
flag's range while the command line is parsed, so a bad value stops the command before any work.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path

from audioprep import allocator, console
from audioprep.errors import BadFileError, UsageError

DEBUG = "--debug"

# Scripts that import TensorFlow at the top (the table scripts) do so before run_cli parses anything, so the
# quiet import is armed as soon as a command's plumbing is imported, unless the command line asks for --verbose.
console.arm_quiet_import()
allocator.tune()  # before TensorFlow's own mallopt: big arrays reused, not faulted in afresh (audioprep.allocator)


def _not_retracing(record: logging.LogRecord) -> bool:
    """TensorFlow warns "triggered tf.function retracing" when several freshly built or loaded models
    predict in one process (table 2 trains and evaluates one after another), or a last batch has another size: one trace
    per model or shape, which is the intended cost, not a fault the user can act on."""
    return "triggered tf.function retracing" not in record.getMessage()


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run `main(argv)`; a user-facing error becomes one stderr line and exit code 2 (1 if unexpected)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG in argv
    argv = console.configure([a for a in argv if a != DEBUG])
    logging.getLogger("tensorflow").addFilter(_not_retracing)  # TensorFlow's logger; adding it twice is a no-op
    try:
        code = main(argv)
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; rerun with --resume to continue", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the user gets one line; --debug shows the traceback
        if debug:
            raise
        print(f"error: {describe(err)}", file=sys.stderr)
        return 2 if isinstance(err, (BadFileError, UsageError, OSError)) else 1
    return int(code or 0)


def describe(err: Exception) -> str:
    """One line for `err`: the file at fault first when the error names one."""
    if isinstance(err, (BadFileError, UsageError)):
        return str(err)
    if isinstance(err, OSError) and err.filename is not None:
        reason = "permission denied" if isinstance(err, PermissionError) else (err.strerror or str(err)).lower()
        return f"{err.filename}: {reason}"
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {first} (rerun with {DEBUG} for the traceback)"


def existing_path(value: str):
    """argparse type: a path that must exist, else a one-line error naming it."""
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{value}: no such file or directory")
    return path


def _number(value: str, kind: type, what: str):
    try:
        number = kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not {what}") from None
    if kind is float and not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{value!r} is not a finite number")
    return number


def int_at_least(least: int) -> Callable[[str], int]:
    """argparse type: an integer >= `least` (epochs, batch size, counts)."""

    def parse(value: str) -> int:
        number = _number(value, int, "an integer")
        if number < least:
            raise argparse.ArgumentTypeError(f"must be an integer >= {least}, not {value}")
        return number

    parse.__name__ = f"integer >= {least}"
    return parse


def positive_float(value: str) -> float:
    """argparse type: a number > 0 (learning rate, seconds, temperature)."""
    number = _number(value, float, "a number")
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {value}")
    return number


def non_negative_float(value: str) -> float:
    """argparse type: a number >= 0 (an offset in seconds)."""
    number = _number(value, float, "a number")
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {value}")
    return number


def fraction(value: str) -> float:
    """argparse type: a number in [0, 1) (window overlap, dropout)."""
    number = _number(value, float, "a number")
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), not {value}")
    return number


def unit_interval(value: str) -> float:
    """argparse type: a number in [0, 1] (a blend weight, a confidence)."""
    number = _number(value, float, "a number")
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], not {value}")
    return number


def check_top(top: int, classes: int, flag: str = "--top") -> int:
    """`--top` once the model is known: at most its number of classes (argparse already checked >= 1)."""
    if top > classes:
        raise UsageError(f"{flag} {top}: the model has {classes} classes; pick 1..{classes}")
    return top
