"""The run contract every trainer shares: what a run is apart from its model's params, and its flags, declared once.

`RunSpec` holds where a run writes (`out`), what it reads (`data`, `max_per_file`), whether it continues
(`resume`), how long (`epochs`), its `seed`, and where it runs (`distribute`). `add_run_arguments` adds
`--data --out --resume --epochs --seed --strategy --mixed-precision` (and a trainer's cap flag) to any
parser, and `spec_from_args` turns them back into a RunSpec, so every `train` command spells them alike.
`asmr_training.start.start_run` starts a run from a spec and the trainer's params.

This module imports no TensorFlow: parsers add these flags cheaply.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asmr_training import distribute
from audioprep.errors import UsageError

# Settings a spec shares with a params class that has a field of the same name (LeanParams.seed, every
# family's `epochs`): the spec's value, when given, is written into the params, so the model code reads one object.
FOLDED = ("epochs", "seed", "max_per_file")


@dataclass(frozen=True)
class RunSpec:
    """One run of any trainer, apart from its model's params.

    `epochs`, `seed` and `max_per_file` left None take, for a new run, the params' field of that name where
    it has one (else seed 0, no cap) and, for a resume, the run's recorded values. `data` None: the generated
    corpus, or for a resume the run's recorded data folder.
    """

    out: Path
    data: Path | None = None
    resume: bool = False
    epochs: int | None = None
    seed: int | None = None
    max_per_file: int | None = None
    distribute: distribute.DistributeParams = field(default_factory=distribute.DistributeParams)

    def __post_init__(self):
        object.__setattr__(self, "out", Path(self.out))
        if self.data is not None:
            object.__setattr__(self, "data", Path(self.data))
        for name, least in (("epochs", 1), ("seed", 0), ("max_per_file", 1)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
                raise UsageError(f"{name} {value!r}: must be an integer >= {least}")


def add_run_arguments(parser, *, out_help: str = "run folder", out_required: bool = False,
                      data_help: str = "dataset folder (default: the generated corpus)",
                      cap: tuple[str, str] | None = None) -> None:
    """The flags of RunSpec on a `train` parser; `cap` = (flag, help) names the trainer's max-per-file flag."""
    from audioprep.cli import existing_path, int_at_least

    parser.add_argument("--data", type=existing_path, help=data_help)
    parser.add_argument("--out", type=Path, required=out_required, help=out_help)
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out; its recorded settings apply, and a flag that differs "
                             "from them is refused (--epochs may change)")
    parser.add_argument("--epochs", type=int_at_least(1), help="epochs to train in all (default: the model's)")
    parser.add_argument("--seed", type=int_at_least(0),
                        help="weights and shuffling seed (default 0; with --resume: the run's)")
    if cap is not None:
        flag, help_text = cap
        parser.add_argument(flag, dest="max_per_file", type=int_at_least(1), help=help_text)
    distribute.add_arguments(parser)


def spec_from_args(args, out=None) -> RunSpec:
    """The RunSpec of parsed `add_run_arguments` flags; `out` is the default run folder when --out is not given."""
    return RunSpec(
        out=args.out or out,
        data=args.data,
        resume=args.resume,
        epochs=args.epochs,
        seed=args.seed,
        max_per_file=getattr(args, "max_per_file", None),
        distribute=distribute.DistributeParams(args.strategy, args.mixed_precision),
    )


def one_of(*choices: str) -> Callable[[str], str]:
    """A value rule (and argparse type): one of `choices`."""

    def parse(value: str) -> str:
        if value not in choices:
            raise argparse.ArgumentTypeError(f"pick one of {', '.join(choices)}, not {value!r}")
        return value

    parse.__name__ = "one of " + ", ".join(choices)
    return parse


def number_at_least(least: float) -> Callable[[str], float]:
    """A value rule (and argparse type): a finite number >= `least` (a weight that may be 0)."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not number >= least or number == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a number >= {least:g}, not {value}")
        return number

    parse.__name__ = f"number >= {least:g}"
    return parse


def check_fields(params, rules: dict[str, Callable], shown: Callable[[str, object], str]) -> None:
    """Each field of `params` that `rules` names, checked by its rule (an argparse type, so the command line and
    the Python API apply the same ranges); UsageError starting `shown(field, value)` (the flag as typed) otherwise."""
    for name, rule in rules.items():
        value = getattr(params, name)
        if value is None:
            continue
        try:
            rule(str(value))
        except (argparse.ArgumentTypeError, UsageError) as err:
            raise UsageError(f"{shown(name, value)}: {err}") from None


def as_flag(name: str, value) -> str:
    """How a params field's value is typed as its own flag: `--learning-rate 0.5`."""
    return f"--{name.replace('_', '-')} {value}"


def field_names(params) -> set[str]:
    return {f.name for f in dataclasses.fields(params)}
