"""Following a refusal's hint as printed: the part of its one line after the last "; " says what to change.

The forms the commands print: "drop --a [and --b ...]", "drop --resume and train afresh into another --out",
"use --flag VALUE" / "pass --flag VALUE" (shell-quoted), "move FILE out of FOLDER". A hint in no such form fails the test.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

AFRESH = " and train afresh into another --out"


def _without(argv: list[str], flag: str) -> list[str]:
    assert flag in argv, f"the hint drops {flag}, which the command did not give"
    i = argv.index(flag)
    takes_value = i + 1 < len(argv) and not argv[i + 1].startswith("--")
    return argv[:i] + argv[i + 2 if takes_value else i + 1 :]


def follow(argv: list[str], message: str, aside: Path) -> list[str]:
    """The command line `message`'s hint asks for (files it says to move go to the folder `aside`)."""
    hint = message.strip().rsplit("; ", 1)[-1]
    argv = list(argv)
    if moved := re.fullmatch(r"move (\S+) out of (.+)", hint):
        Path(moved[2], moved[1]).rename(aside / moved[1])
        return argv
    if re.match(r"(use|pass) --", hint):
        _, flag, value = shlex.split(hint)
        if flag in argv:
            argv[argv.index(flag) + 1] = value
            return argv
        return [*argv, flag, value]
    if hint.startswith("drop "):
        afresh = hint.endswith(AFRESH)
        for flag in re.findall(r"--[\w-]+", hint.removesuffix(AFRESH)):
            argv = _without(argv, flag)
        if afresh:
            i = argv.index("--out") + 1
            argv[i] = f"{argv[i]}-afresh"
        return argv
    raise AssertionError(f"no runnable hint in: {message!r}")


def run_until_done(cli: Callable[[list[str]], int], argv: list[str], capsys, aside: Path,
                   limit: int = 8) -> tuple[list[str], list[str]]:
    """`cli(argv)` run and, while it is refused (exit 2, one line), the command its hint gives, as printed;
    (the refusals, the argv that finally ran)."""
    refusals = []
    for _ in range(limit):
        capsys.readouterr()
        code = cli(argv)
        if code == 0:
            return refusals, argv
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
        refusals.append(err)
        argv = follow(argv, err, aside)
    raise AssertionError(f"still refused after {limit} hints: {refusals}")
