"""`python -m asmr_classify catalog ...`: the flags and handlers of catalogue, query, export and re-merge
(declared as commands in asmr_classify/__main__.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asmr_classify.catalog.build import build_catalog
from asmr_classify.catalog.queries import export_csv, labels, query
from asmr_classify.catalog.records import remerge
from asmr_classify.params import CATALOG
from asmr_classify.predict import StageClock
from audioprep.cli import fraction, int_at_least, unit_interval
from audioprep.errors import UsageError


def query_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("columns: path, start, end, label, confidence, flags (short, silent, truncated; - for none), "
                     "AudioSet tags (- for none)")
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--label", help="a model class, or other / unsure / silent")
    parser.add_argument("--tag", help="segments one of whose AudioSet tags contains this text, any case "
                                      "(e.g. Whispering, Tapping, Crumpling)")
    parser.add_argument("--min-confidence", type=unit_interval, default=0.0,
                        help="segments at least this confident; above 0 it leaves out every segment of a recording "
                             "too short or silent to classify (default 0: all, those last)")


def run_query(args) -> int:
    held = labels(args.db)
    if args.label is not None and args.label not in held:
        raise UsageError(f"--label {args.label}: not a label of this catalogue; it holds: {', '.join(held) or 'none'}")
    rows = query(args.db, args.label, args.min_confidence, args.tag)
    for hit in rows:
        print(f"{hit.path}\t{hit.start:.2f}\t{hit.end:.2f}\t{hit.label}\t{hit.confidence:.3f}\t{hit.flag_text or '-'}"
              f"\t{hit.tag_text or '-'}")
    print(f"{len(rows)} segments", file=sys.stderr)
    return 0


def export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--csv", required=True, type=Path)


def run_export(args) -> int:
    print(f"{export_csv(args.db, args.csv)} segments written to {args.csv}")
    return 0


def remerge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--threshold", required=True, type=unit_interval,
                        help="leave out windows whose top probability is under this")


def run_remerge(args) -> int:
    print(f"{remerge(args.db, args.threshold)} recordings re-merged at threshold {args.threshold:g}")
    return 0


def build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "also: catalog query --db F ...; catalog export --db F --csv OUT; catalog remerge --db F --threshold T"
    parser.add_argument("folder", type=Path, metavar="DIR")
    parser.add_argument("--model", help="run folder, .keras or .tflite file (default: the ASMR / speech detector "
                                        "on YAMNet's AudioSet head)")
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--overlap", type=fraction, default=CATALOG.overlap,
                        help=f"window overlap (default {CATALOG.overlap:g}: back-to-back)")
    parser.add_argument("--threshold", type=unit_interval, default=CATALOG.threshold,
                        help=f"leave out windows whose top probability is under this (default {CATALOG.threshold:g})")
    parser.add_argument("--workers", type=int_at_least(1), default=CATALOG.workers,
                        help=f"files classified at once, in processes (default {CATALOG.workers})")
    parser.add_argument("--timing", action="store_true", help="print the seconds spent per stage on stderr")


def run_build(args) -> int:
    """Exit 1 when a file could not be catalogued (each is named on stderr); the others are catalogued."""
    clock = StageClock()
    counts = build_catalog(args.folder, args.model, args.db, args.overlap, threshold=args.threshold,
                           workers=args.workers, clock=clock)
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    if args.timing:
        print(clock.report(), file=sys.stderr)
    return 1 if counts["bad"] else 0
