"""What table6, table7 and the LEAN benchmark share: the data budget, the YAMNet source, and trained models.

Full runs use the whole corpus with an epoch budget that keeps table6 within two hours on two CPU
cores (51 min measured on the generated corpus); `--quick` trains on a few hundred 1 s patches for
a minutes-long smoke run. Trained models live in `runs/table6[-quick]/<data+yamnet key>/<variant>`
and are reused (resumed) by later scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras

from audioprep.cache import settings_key
from audioprep.cli import existing_path
from audioprep.corpus import layout_dir
from audioprep.runs import STATE
from lean.data import LeanData, load_data
from lean.params import LeanParams
from lean.pretrain import standin_yamnet
from lean.train import run_dir, train_variant


@dataclass(frozen=True)
class Budget:
    """How much data and training an experiment spends."""

    name: str
    max_clips: dict | None
    max_patches_per_clip: int | None
    epochs: int
    pretrain_epochs: int


FULL = Budget("full", None, None, epochs=10, pretrain_epochs=10)
QUICK = Budget("quick", {"train": 200, "val": 48, "eval": 120}, 2, epochs=2, pretrain_epochs=2)

STANDIN_NOTE = (
    "YAMNet weights: a stand-in pretrained here on the corpus's dev-train split (no hub or AudioSet weights "
    "reachable), not Google's AudioSet YAMNet"
)
CORPUS_NOTE = "numbers on the generated corpus are NOT the paper's (FSD50K, 200 classes, AudioSet-pretrained YAMNet)"


@dataclass
class Setup:
    data: LeanData
    yamnet: str | Path
    budget: Budget
    notes: list[str]
    runs: Path


def add_data_arguments(parser) -> None:
    """The flags every LEAN experiment shares: which FSD50K, which YAMNet, and the smoke-run switch."""
    parser.add_argument("--data", type=existing_path, help="FSD50K folder (default: the generated corpus)")
    parser.add_argument("--yamnet", help="yamnet.h5, hub handle or SavedModel folder (default: pretrained stand-in)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few minutes")


def setup(
    data_arg,
    quick: bool,
    yamnet: str | None,
    runs_root: Path = Path("runs"),
    params: LeanParams = LeanParams(),
    splits=("train", "val", "eval"),
) -> Setup:
    """Load the data for an experiment and settle the YAMNet source (given, or the cached stand-in)."""
    budget = QUICK if quick else FULL
    root = layout_dir("fsd50k", data_arg)
    data = load_data(root, params, splits=splits, max_clips=budget.max_clips)
    print(data.report, flush=True)
    notes = [] if data_arg else [CORPUS_NOTE]
    if quick:
        notes.append(f"--quick: {budget.max_clips} clips, <= {budget.max_patches_per_clip} patches per clip, {budget.epochs} epochs")
    if yamnet is None:
        yamnet = standin_yamnet(data, params, budget.pretrain_epochs, budget.max_patches_per_clip)
        notes.append(STANDIN_NOTE)
    else:
        notes.append(f"YAMNet: {yamnet}")
    key = settings_key([str(root.resolve()), str(yamnet)], length=8)
    runs = Path(runs_root) / ("table6-quick" if quick else "table6") / key
    return Setup(data, yamnet, budget, notes, runs)


def trained(variant: str, s: Setup, params: LeanParams = LeanParams(), verbose: int = 2) -> keras.Model:
    """The best checkpoint of `variant` under the setup's run folder, training (or resuming) it as needed."""
    out = s.runs / variant
    resume = (out / STATE).exists()
    print(f"== {variant}: {'resuming' if resume else 'training'} in {out} ({s.budget.epochs} epochs)", flush=True)
    return train_variant(
        variant, s.data, run_dir(out, resume), s.budget.epochs, s.yamnet, params, s.budget.max_patches_per_clip, verbose
    )
