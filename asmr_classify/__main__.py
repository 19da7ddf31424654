"""`python -m asmr_classify {train,predict,export,catalog,sweep}`: Lin's and DeepASMR's classifiers as tools."""

from __future__ import annotations

import argparse
import importlib
import sys

from audioprep.cli import run_cli

COMMANDS = {  # modules of this package, each with add_arguments(parser) and main(args)
    "train": "train a classifier into a run folder (resumable)",
    "predict": "label files: probabilities, per-window timeline, majority label",
    "sweep": "Talos hyper-parameter sweep from a YAML grid",
    "export": "a .tflite for Android: waveform in, scores out, labels and rate in its metadata",
}


def _module(command: str):
    return importlib.import_module(f"asmr_classify.{command}")


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["catalog"]:
        from asmr_classify import catalog

        return catalog.main(argv[1:])
    parser = argparse.ArgumentParser(prog="asmr_classify", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if argv[:1] == [name]:  # only the chosen command's module (and TensorFlow) is imported
            _module(name).add_arguments(command)
    sub.add_parser("catalog", help="catalogue a folder of recordings into SQLite (see `catalog -h`)")
    args = parser.parse_args(argv)
    return _module(args.command).main(args)


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
