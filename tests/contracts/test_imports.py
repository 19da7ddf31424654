"""The audio core and the CLIs' help and inspect paths start without TensorFlow (it takes seconds to import)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Runs `python -m MODULE ARGS...` in-process, then reports its exit code and which heavy modules it loaded.
RUN_MODULE = """
import runpy, sys
module, sys.argv = sys.argv[1], sys.argv[1:]
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
except SystemExit as done:
    print("exit:", done.code)
print("loaded:", sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
"""


def _python(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_audioprep_imports_without_tensorflow_or_keras():
    out = _python(
        "-c",
        "import audioprep, audioprep.io, audioprep.features, audioprep.datasets, audioprep.segment, audioprep.slices; "
        "import sys; print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))",
    )
    assert out.strip() == "[]"


@pytest.mark.parametrize("module", ["audioprep", "asmr_classify", "lean"])
def test_cli_help_does_not_import_tensorflow(module):
    out = _python("-c", RUN_MODULE, module, "--help")
    assert "usage:" in out
    assert out.splitlines()[-2:] == ["exit: 0", "loaded: []"]


def test_audioprep_inspect_does_not_import_tensorflow(small_layout):
    out = _python("-c", RUN_MODULE, "audioprep", "inspect", str(small_layout("deepasmr")))
    assert "deepasmr:" in out and "bad files: 0" in out
    assert out.splitlines()[-2:] == ["exit: 0", "loaded: []"]


def test_a_subcommand_parser_still_has_its_arguments():
    """Arguments are added only for the command asked for; asking for it must still give them."""
    from audioprep.commands import build_parser
    from lean.__main__ import COMMANDS

    assert "--variant" not in build_parser("lean", "", COMMANDS, ["export"])[0].format_help()
    parser, argv = build_parser("lean", "", COMMANDS, ["export", "--model", ".", "--quantize", "int8"])
    args = parser.parse_args(argv)
    assert (args.quantize, args.out.name, args.calibration) == ("int8", "lean.tflite", 200)
    with pytest.raises(SystemExit):
        parser, argv = build_parser("lean", "", COMMANDS, ["train", "--variant", "nope"])
        parser.parse_args(argv)
