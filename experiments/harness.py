"""What every table script repeats: the common flags, the quick/full budget, writing the results, the judge.

Each table keeps what is its own (its models, rows and figures); this module holds the plumbing so that
`--data/--quick/--out/--runs`, the budget and the output files mean the same in every table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from asmr_classify.models import embedding_model
from asmr_classify.predict import load_classifier, predict_batched, predict_proba
from asmr_training.environment import environment
from audioprep.cli import existing_path
from audioprep.report import pyplot

ROOT = Path(__file__).resolve().parents[1]


def data_parser(doc: str, data_help: str, runs: str) -> argparse.ArgumentParser:
    """--data, --quick and --runs (default runs/<runs>): the flags of anything that trains on a corpus."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=existing_path, help=f"{data_help} (default: the generated corpus)")
    p.add_argument("--quick", action="store_true", help="the quick budget: a run of minutes that shows the method")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / runs, help="where trained models go")
    return p


def parser(doc: str, table: str, data_help: str, runs: str | None = None) -> argparse.ArgumentParser:
    """A table's flags: data_parser's (runs/<runs or table>) and --out (default results/<table>)."""
    p = data_parser(doc, data_help, runs or table)
    p.add_argument("--out", type=Path, default=ROOT / "results" / table, help="where table.md, results.json and figures go")
    return p


def budget(args, full, quick, **flags):
    """The run's budget (--quick's or the full one), each flag given (not None) replacing its field."""
    return dataclasses.replace(quick if args.quick else full, **{k: v for k, v in flags.items() if v is not None})


def write_results(out: Path, text: str, payload: dict) -> None:
    """table.md and results.json (plus the environment), each replaced only after both are written."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        out / "table.md": text.rstrip("\n") + "\n",
        out / "results.json": json.dumps({**payload, "environment": environment()}, indent=2, default=str) + "\n",
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


class Judge:
    """A classifier trained on real slices that judges generated ones (tables 4 and 5).

    It gives class probabilities, the share of a set classified as an intended class, and its
    penultimate-layer embedding, on which generated and real sets are compared.
    """

    def __init__(self, model, classes):
        self.model, self.classes = model, list(classes)
        self._embedder = None

    @classmethod
    def from_run(cls, folder: Path) -> Judge:
        """The best model of an asmr_classify run folder, with the classes its params.json names."""
        classifier = load_classifier(folder)
        return cls(classifier.model, classifier.classes)

    def proba(self, x: np.ndarray) -> np.ndarray:
        return predict_proba(self.model, x)

    def share(self, x: np.ndarray, target: int) -> float:
        """The fraction of `x` whose most probable class is `target`."""
        return float(np.mean(self.proba(x).argmax(1) == target))

    def embed(self, x: np.ndarray) -> np.ndarray:
        if self._embedder is None:
            self._embedder = embedding_model(self.model)
        return predict_batched(self._embedder, x)
