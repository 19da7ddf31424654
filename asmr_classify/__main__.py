"""`python -m asmr_classify {train,predict,catalog,sweep}`: Lin's and DeepASMR's classifiers as tools."""

from __future__ import annotations

import argparse
import sys

from audioprep.cli import run_cli


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["catalog"]:
        from asmr_classify import catalog

        return catalog.main(argv[1:])
    from asmr_classify import predict, sweep, train

    parser = argparse.ArgumentParser(prog="asmr_classify", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "train": (train, "train a classifier into a run folder (resumable)"),
        "predict": (predict, "label files: probabilities, per-window timeline, majority label"),
        "sweep": (sweep, "Talos hyper-parameter sweep from a YAML grid"),
    }
    for name, (module, help_text) in commands.items():
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    sub.add_parser("catalog", help="catalogue a folder of recordings into SQLite (see `catalog -h`)")
    args = parser.parse_args(argv)
    return commands[args.command][0].main(args)


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
