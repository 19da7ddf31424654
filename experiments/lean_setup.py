"""What table6, table7 and the LEAN benchmark share: the budget, the data, the YAMNet source, trained models.

The budgets (full, and `--quick`'s few hundred 1 s patches) are lean.budget's, which `lean train --quick`
shares. Trained models live in `<--runs>/<budget name>/<key>/<variant>` (by default runs/lean/, the
key naming the data, YAMNet, budget and params) and are reused (resumed) by the later scripts, so
table7 and the benchmark measure the very model table6 trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import keras

from asmr_corpus.location import layout_dir
from asmr_training.run_dir import STATE
from asmr_training.run_spec import RunSpec
from audioprep.cache import settings_key
from audioprep.cli import int_at_least
from experiments import harness
from lean.budget import FULL, QUICK, Budget
from lean.data import LeanData, load_data
from lean.params import YAMNET_HELP, LeanParams
from lean.pretrain import backbone
from lean.train import train_variant

RUNS = "lean"  # runs/<this> holds the models tables 6 and 7 and the benchmark share
DATA_HELP = "FSD50K folder"

CORPUS_NOTE = "numbers on the generated corpus are NOT the paper's (FSD50K, 200 classes, AudioSet-pretrained YAMNet)"


@dataclass
class Setup:
    data: LeanData
    yamnet: str | Path
    backbone: str  # which YAMNet weights, in words (results name it, never a machine's path)
    budget: Budget
    notes: list[str]
    runs: Path
    params: LeanParams


def add_arguments(parser) -> None:
    """The flags LEAN experiments add to the common ones: which YAMNet, the seed, budget overrides."""
    parser.add_argument("--yamnet", help=YAMNET_HELP)
    parser.add_argument("--seed", type=int, default=LeanParams().seed, help="weights and shuffling seed")
    parser.add_argument("--epochs", type=int_at_least(1), help=f"epochs per model (default {FULL.epochs}; --quick: {QUICK.epochs})")
    parser.add_argument("--pretrain-epochs", type=int_at_least(1), help="stand-in YAMNet pretraining epochs "
                        f"(default {FULL.pretrain_epochs}; --quick: {QUICK.pretrain_epochs})")


def setup(args, splits=("train", "val", "eval")) -> Setup:
    """Load the data for the parsed flags and settle the YAMNet source (given, or the cached stand-in)."""
    budget = harness.budget(args, FULL, QUICK, epochs=args.epochs, pretrain_epochs=args.pretrain_epochs)
    params = replace(LeanParams(), seed=args.seed, epochs=budget.epochs, max_patches_per_clip=budget.max_patches_per_clip)
    root = layout_dir("fsd50k", harness.corpus(args, "fsd50k"))
    data = load_data(root, params, splits=splits, max_clips=budget.max_clips)
    print(data.report, flush=True)
    notes = [] if args.data else [CORPUS_NOTE]
    if args.quick:
        notes.append(f"--quick: {budget.max_clips} clips, <= {budget.max_patches_per_clip} patches per clip, {budget.epochs} epochs")
    yamnet, note = backbone(args.yamnet, data, params, budget.pretrain_epochs)
    notes.append(note)
    # Models trained under other data, weights, budget or params are never resumed by mistake.
    key = settings_key([str(root.resolve()), str(yamnet), asdict(budget), asdict(params)], length=8)
    return Setup(data, yamnet, note, budget, notes, Path(args.runs) / budget.name / key, params)


def trained(variant: str, s: Setup, verbose: int = 2) -> keras.Model:
    """The best checkpoint of `variant` under the setup's run folder, training (or resuming) it as needed."""
    out = s.runs / variant
    resume = (out / STATE).exists()
    print(f"== {variant}: {'resuming' if resume else 'training'} in {out} ({s.budget.epochs} epochs)", flush=True)
    return train_variant(RunSpec(out, resume=resume), s.params, variant, s.data, s.yamnet, verbose=verbose).model
