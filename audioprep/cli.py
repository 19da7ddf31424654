"""Command-line plumbing every package shares: one-line errors on stderr, non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from audioprep.errors import AudioError, UsageError


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run `main(argv)`; a user-facing error becomes one stderr line and exit code 2."""
    try:
        code = main(argv)
    except (AudioError, UsageError, FileNotFoundError, NotADirectoryError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; rerun with --resume to continue", file=sys.stderr)
        return 130
    return int(code or 0)


def existing_path(value: str):
    """argparse type: a path that must exist, else a one-line error naming it."""
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{value}: no such file or directory")
    return path
