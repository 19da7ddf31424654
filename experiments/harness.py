"""What every table script repeats: the common flags, the quick/full budget and corpus, writing the results.

Each table keeps what is its own (its models, rows and figures); this module holds the plumbing so that
`--data/--quick/--out/--runs`, the budget and the output files mean the same in every table. A quick run
never touches the committed full results: it reads its own small corpus (`data/quick/`) and writes to
the git-ignored `results/quick/<table>/` unless --out says otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

from asmr_corpus.location import corpus_root, layout_dir
from asmr_training.environment import environment
from audioprep.cli import existing_path
from audioprep.paths import DATA_ENV, data_root
from audioprep.report import pyplot

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"  # full runs, committed and rendered into the docs
QUICK_RESULTS = RESULTS / "quick"  # --quick runs, git-ignored
# The row of asmr_classify's YAMNet transfer family, in every table that runs it.
YAMNET_ROW = ("beyond the papers: YAMNet transfer (Google's YAMNet, AudioSet weights, frozen; "
              "embeddings of 0.975 s windows + softmax head by L-BFGS)")


def _add_data_flags(p: argparse.ArgumentParser, data_help: str, runs: str) -> argparse.ArgumentParser:
    p.add_argument("--data", type=existing_path, help=f"{data_help} (default: the generated corpus)")
    p.add_argument("--quick", action="store_true", help="the quick budget: a run of minutes that shows the method")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / runs, help="where trained models go")
    return p


def data_parser(doc: str, data_help: str, runs: str) -> argparse.ArgumentParser:
    """--data, --quick and --runs (default runs/<runs>): the flags of anything that trains on a corpus."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    return _add_data_flags(p, data_help, runs)


def default_out(table: str, quick: bool) -> Path:
    """Where a run writes without --out: results/<table>, or the git-ignored results/quick/<table> for --quick."""
    return (QUICK_RESULTS if quick else RESULTS) / table


class _TableParser(argparse.ArgumentParser):
    """Fills in --out once --quick is known (see `default_out`)."""

    def __init__(self, table: str, **kwargs):
        super().__init__(**kwargs)
        self.table = table

    def parse_known_args(self, args=None, namespace=None):
        parsed, rest = super().parse_known_args(args, namespace)
        if parsed.out is None:
            parsed.out = default_out(self.table, parsed.quick)
        return parsed, rest


def parser(doc: str, table: str, data_help: str, runs: str | None = None) -> argparse.ArgumentParser:
    """A table's flags: data_parser's (runs/<runs or table>) and --out (see `default_out`)."""
    p = _TableParser(table, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_flags(p, data_help, runs or table)
    p.add_argument("--out", type=Path, help="where table.md, results.json and figures go (default: "
                   f"{default_out(table, False).relative_to(ROOT)}/; --quick: {default_out(table, True).relative_to(ROOT)}/)")
    return p


def budget(args, full, quick, **flags):
    """The run's budget (--quick's or the full one), each flag given (not None) replacing its field."""
    return dataclasses.replace(quick if args.quick else full, **{k: v for k, v in flags.items() if v is not None})


def corpus(args, *layouts: str) -> Path:
    """--data, else the folder holding the generated `layouts`, each made on first use: the default
    corpus for a full run, for --quick a smaller one of only what the quick budgets read (data/quick/)."""
    if args.data is not None:
        return args.data
    size = "quick" if args.quick else "default"
    for layout in layouts:
        layout_dir(layout, size=size)
    return corpus_root(size)


def portable(text: str) -> str:
    """`text` with this checkout's absolute paths made relative to it, and the data root's (when
    $ASMR_TOOLKIT_DATA moves it elsewhere) written `$ASMR_TOOLKIT_DATA`: results name no machine's folders."""
    prefixes = [(ROOT, "")]
    if not data_root().resolve().is_relative_to(ROOT):
        prefixes.insert(0, (data_root(), f"${DATA_ENV}/"))
    for folder, name in prefixes:
        # The folder itself, or followed by "/": never a longer name that starts with it.
        text = re.sub(re.escape(str(folder)) + r"(/|(?![\w.-]))",
                      lambda m, name=name: name if m.group(1) else name.rstrip("/") or ".", text)
    return text


def write_results(out: Path, text: str, payload: dict, *, quick: bool) -> None:
    """table.md and results.json (which says whether the run was --quick, and the environment), each
    replaced only after both are written, their paths `portable`."""
    out.mkdir(parents=True, exist_ok=True)
    results = {"quick": quick, **payload, "environment": environment()}
    files = {
        out / "table.md": portable(text.rstrip("\n") + "\n"),
        out / "results.json": portable(json.dumps(results, indent=2, default=str) + "\n"),
    }
    for path, content in files.items():
        path.with_name(path.name + ".partial").write_text(content)
    for path in files:
        os.replace(path.with_name(path.name + ".partial"), path)


def save_figure(fig, path: Path, dpi: int = 110) -> Path:
    """Write a matplotlib figure with a tight layout, then free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def yamnet_transfer(run_dir: Path, data, max_per_file: int | None = None, **train):
    """asmr_classify's YAMNet transfer family (`train --model yamnet`) trained afresh and quietly into `run_dir`
    on `data`, at most `max_per_file` windows per recording; `train` are train_yamnet's data arguments. Its
    embeddings are cached by file content, so a second table or fold on the same files runs no YAMNet."""
    from asmr_classify.train import train_yamnet
    from asmr_training.run_spec import RunSpec

    shutil.rmtree(run_dir, ignore_errors=True)
    return train_yamnet(RunSpec(run_dir, data, max_per_file=max_per_file), verbose=0, **train)


def yamnet_transfer_weights() -> dict:
    """The weights YAMNET_ROW ran on ({"weights", "sha256"}, as its params.json records them)."""
    from asmr_classify.yamnet_head import weights

    return weights()


def yamnet_transfer_note() -> str:
    w = yamnet_transfer_weights()
    return f"YAMNet transfer row: Google's AudioSet YAMNet, {w['weights']} (SHA-256 {w['sha256'][:12]}...)"
