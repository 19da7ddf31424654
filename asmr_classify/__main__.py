"""`python -m asmr_classify {train,predict,sweep,export,catalog}`: Lin's and DeepASMR's classifiers as tools."""

from __future__ import annotations

import sys

from audioprep.commands import Command, Group, command_line


def _module(name: str) -> tuple[str, str]:
    """A command whose module of this package holds `add_arguments(parser)` and `main(args)`."""
    return f"asmr_classify.{name}:add_arguments", f"asmr_classify.{name}:main"


def _catalog(name: str) -> tuple[str, str]:
    return f"asmr_classify.catalog.cli:{name}_arguments", f"asmr_classify.catalog.cli:run_{name}"


CATALOG = Group("catalogue a folder of recordings into SQLite; query, export or re-merge a catalogue", {
    "build": Command("catalogue the recordings in DIR (the default: `catalog DIR ...`)", *_catalog("build")),
    "query": Command("segments by label, AudioSet tag or confidence", *_catalog("query")),
    "export": Command("every segment as CSV", *_catalog("export")),
    "remerge": Command("redo every recording's segments from its stored probabilities", *_catalog("remerge")),
}, default="build")


COMMANDS = Group(__doc__, {
    "train": Command("train a classifier into a run folder (resumable)", *_module("train")),
    "predict": Command("label files: probabilities, per-window timeline, majority label", *_module("predict")),
    "sweep": Command("Talos hyper-parameter sweep from a YAML grid", *_module("sweep")),
    "export": Command("a .tflite for Android: waveform in, scores out, labels and rate in its metadata",
                      *_module("export")),
    "catalog": CATALOG,
})

main = command_line("asmr_classify", __doc__, COMMANDS)

if __name__ == "__main__":
    sys.exit(main())
