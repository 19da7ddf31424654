"""`python -m lean prepare`: a dataset's splits as TFRecord shards (lean.shards), resumable, with a manifest.

`--data` is read as `train` reads it (FSD50K's published splits, or a labelled folder such as
ESC-50 or the trigger folders, split the same way), through the decoded PCM store; the shards then
live in `--out`, which every worker of a multi-machine run reads (docs/distribute.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

SPLITS = ("train", "val", "eval")


def add_arguments(parser) -> None:
    from audioprep.cli import positive_float

    parser.add_argument("--out", type=Path, required=True, help="shard folder (rerun the same command to finish it)")
    parser.add_argument("--shard-mb", type=positive_float, default=256.0, help="about this many MB per shard")


def main(data, args) -> int:
    """Write the shards of `data` (a LeanData) into --out and print what the manifest holds."""
    from lean.shards import ShardParams, write_shards

    manifest = write_shards(data, args.out, shard=ShardParams(args.shard_mb), progress=sys.stderr.isatty())
    for split, entries in manifest["splits"].items():
        clips = sum(e["clips"] for e in entries)
        mb = sum(e["bytes"] for e in entries) / 2**20
        print(f"{split}: {clips} clips, {sum(e['patches'] for e in entries)} patches in {len(entries)} shards "
              f"({mb:.1f} MB)")
    print(f"manifest: {Path(args.out) / 'manifest.json'}")
    return 0
