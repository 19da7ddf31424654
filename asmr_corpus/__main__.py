"""`python -m asmr_corpus --layout L --out DIR` writes the generated stand-in corpus in a real dataset's layout."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from asmr_corpus import LAYOUTS, SIZES, write_layout
from audioprep.cli import int_at_least, run_cli


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asmr_corpus", description=__doc__.splitlines()[0])
    parser.add_argument("--layout", required=True, choices=[*LAYOUTS, "all"])
    parser.add_argument("--out", required=True, type=Path, help="parent folder; writes OUT/<layout>/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", choices=SIZES, default="default")
    parser.add_argument("--workers", type=int_at_least(1), default=None,
                        help="worker processes (default: one per core; small: none); the files do not depend on it")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    made = write_layout(args.layout, args.out, seed=args.seed, size=args.size, workers=args.workers)
    files = sum(1 for p in made.rglob("*") if p.is_file() and not p.name.startswith("."))
    print(f"wrote {made} ({files} files, seed {args.seed}, size {args.size}) in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
