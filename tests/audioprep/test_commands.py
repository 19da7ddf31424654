"""audioprep.commands: the one way packages declare and dispatch their commands."""

from __future__ import annotations

import sys
import types

import pytest

from audioprep.commands import Command, Group, build_parser, command_line
from audioprep.errors import UsageError


@pytest.fixture()
def handlers(monkeypatch):
    """Two throwaway modules holding flags and handlers; `imported` records which were loaded."""
    imported = []

    def module(name):
        mod = types.ModuleType(name)
        mod.arguments = lambda parser: parser.add_argument("target")
        mod.run = lambda args: imported.append((name, args.target)) or (3 if args.target == "fail" else 0)

        def refuse(args):
            raise UsageError(f"{args.target}: refused")

        mod.refuse = refuse
        return mod

    for name in ("cmd_a", "cmd_b"):
        monkeypatch.setitem(sys.modules, name, module(name))
    return imported


TABLE = Group("tool", {
    "a": Command("first", "cmd_a:arguments", "cmd_a:run"),
    "nest": Group("nested", {
        "build": Command("the default", "cmd_b:arguments", "cmd_b:run"),
        "refuse": Command("fails in one line", "cmd_b:arguments", "cmd_b:refuse"),
    }, default="build", dest="inner"),
})


def test_commands_route_and_a_group_default_fills_in(handlers):
    main = command_line("tool", "", TABLE)
    assert main(["a", "x"]) == 0
    assert main(["nest", "y"]) == 0  # `nest y` is `nest build y`
    assert main(["nest", "build", "z"]) == 0
    assert main(["a", "fail"]) == 3
    assert handlers == [("cmd_a", "x"), ("cmd_b", "y"), ("cmd_b", "z"), ("cmd_a", "fail")]


def test_only_the_chosen_command_adds_its_flags(handlers, monkeypatch):
    assert build_parser("tool", "", TABLE, ["nest", "q"])[1] == ["nest", "build", "q"]
    # with the nested group's module gone, "a" still builds and parses: only the chosen command is imported
    monkeypatch.delitem(sys.modules, "cmd_b")
    parser, argv = build_parser("tool", "", TABLE, ["a", "x"])
    args = parser.parse_args(argv)
    assert (args.run, args.target) == ("cmd_a:run", "x")


def test_help_is_not_taken_for_the_default(handlers, capsys):
    with pytest.raises(SystemExit) as exit_:
        command_line("tool", "", TABLE)(["nest", "-h"])
    assert exit_.value.code == 0 and "fails in one line" in capsys.readouterr().out


def test_errors_are_one_line(handlers, capsys):
    assert command_line("tool", "", TABLE)(["nest", "refuse", "f.wav"]) == 2
    assert capsys.readouterr().err.strip() == "error: f.wav: refused"
    with pytest.raises(SystemExit) as exit_:
        command_line("tool", "", TABLE)(["nope"])
    assert exit_.value.code == 2
