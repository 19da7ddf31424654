"""`python -m lean {train,prepare,evaluate,export,tag}`: LEAN on FSD50K (real or the generated default corpus)
or any labelled folder (`<label>/*.wav`, ESC-50), which fine-tunes YAMNet / LEAN with a softmax head."""

from __future__ import annotations

import sys

from audioprep.commands import Command, Group, command_line


def _cli(name: str) -> tuple[str, str]:
    return f"lean.cli:{name}_arguments", f"lean.cli:cmd_{name}"


COMMANDS = Group(__doc__, {
    "train": Command("train one Table III model, ending with its held-out metrics", *_cli("train")),
    "prepare": Command("TFRecord shards of 16-bit PCM and labels, resumable, with a manifest", *_cli("prepare")),
    "evaluate": Command("chunked evaluation: mAP, mAUC, d-prime, per-class AP", *_cli("evaluate")),
    "export": Command("TFLite export, builtin ops only, labels and rate in its metadata, scored beside the Keras "
                      "model", *_cli("export")),
    "tag": Command("top labels over time for a recording, and a summary of the file", *_cli("tag")),
}, dest="command")

main = command_line("lean", __doc__, COMMANDS)

if __name__ == "__main__":
    sys.exit(main())
