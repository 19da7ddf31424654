"""One way every package's `python -m PACKAGE COMMAND ...` is declared and dispatched.

A command line is a table of `Command`s (or nested `Group`s of them). A command names where its flags
and its handler live as "module:function" strings, so building the parser imports only the module of the
command being run: `-h`, and any command that does not need TensorFlow, never import it. A group may
name a default command, run when the first word is not one of its commands (`catalog DIR` is
`catalog build DIR`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from audioprep.cli import run_cli


def _resolve(ref: str) -> Callable:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Command:
    """A leaf: `arguments(parser)` adds its flags, `run(args) -> exit code` does its work."""

    help: str
    arguments: str
    run: str


@dataclass(frozen=True)
class Group:
    """Sub-commands under one word (`asmr_generate train {ae,vae,...}`, `asmr_classify catalog {query,...}`)."""

    help: str
    commands: dict[str, Command | Group]
    default: str | None = None  # run when the next word is not a command (nor -h)
    dest: str | None = None  # the parsed args' attribute naming the chosen sub-command (default: command_<depth>)


def _with_defaults(argv: list[str], group: Group) -> list[str]:
    """`argv` with each level's default command written out where the user left it implicit."""
    if argv and argv[0] in group.commands:
        chosen = group.commands[argv[0]]
        return [argv[0], *(_with_defaults(argv[1:], chosen) if isinstance(chosen, Group) else argv[1:])]
    if group.default is not None and not (argv and argv[0] in ("-h", "--help")):
        return _with_defaults([group.default, *argv], group)
    return argv


def _add(parser: argparse.ArgumentParser, group: Group, argv: list[str], depth: int) -> None:
    sub = parser.add_subparsers(dest=group.dest or f"command_{depth}", required=True)
    for name, command in group.commands.items():
        child = sub.add_parser(name, help=command.help, description=command.help)
        if argv[:1] != [name]:
            continue  # only the chosen command's flags (and its imports) are built
        if isinstance(command, Group):
            _add(child, command, argv[1:], depth + 1)
        else:
            _resolve(command.arguments)(child)
            child.set_defaults(run=command.run)


def build_parser(prog: str, description: str, commands: Group, argv: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The parser for `argv` (only its command's flags added) and `argv` with implicit defaults written out;
    the parsed args' `run` names the chosen handler as "module:function"."""
    argv = _with_defaults(argv, commands)
    parser = argparse.ArgumentParser(prog=prog, description=description)
    _add(parser, commands, argv, 0)
    return parser, argv


def command_line(prog: str, description: str, commands: Group) -> Callable[[list[str] | None], int]:
    """`main(argv) -> exit code` for a package's `__main__`: parse, dispatch, and fail in one line (run_cli)."""

    def dispatch(argv: list[str]) -> int:
        parser, argv = build_parser(prog, description, commands, argv)
        args = parser.parse_args(argv)
        return _resolve(args.run)(args)

    def main(argv: list[str] | None = None) -> int:
        return run_cli(dispatch, list(sys.argv[1:] if argv is None else argv))

    return main
