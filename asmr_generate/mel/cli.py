"""The mel models' commands under `python -m asmr_generate`: `train {ae,vae,cgan}`, `vary`, `blend`, `sample`."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from asmr_training.run_spec import add_run_arguments, spec_from_args
from audioprep.cli import existing_path, int_at_least, non_negative_float, positive_float, unit_interval

QUICK_SLICES_PER_FILE = 8


def train_arguments(train: argparse.ArgumentParser) -> None:
    add_run_arguments(train, out_required=True, data_help="deepasmr-layout folder (default: the generated corpus)")
    train.add_argument("--quick", dest="max_per_file", action="store_const", const=QUICK_SLICES_PER_FILE,
                       help=f"{QUICK_SLICES_PER_FILE} slices per recording")
    train.add_argument("--batch-size", type=int_at_least(1))
    train.add_argument("--latent-dim", type=int_at_least(1), help="AE/VAE latent size (paper: 256)")
    train.add_argument("--decoder-depth", type=int_at_least(2), help="AE/VAE decoder conv layers (paper: 5)")
    train.add_argument("--no-collapse-remedy", action="store_true",
                       help="VAE: plain ELBO (no KL warm-up, no free bits) for the collapse comparison")


def _model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=existing_path, required=True, help="run folder or .keras file")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)


def _span_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=positive_float, default=4.0, help="how much of each recording to use")
    p.add_argument("--start", type=non_negative_float, default=0.0,
                   help="where to start in the recording (seconds; blend: in A)")


def vary_arguments(vary: argparse.ArgumentParser) -> None:
    vary.add_argument("file", type=existing_path)
    vary.add_argument("--n", type=int_at_least(1), default=5)
    _model_arguments(vary)
    _span_arguments(vary)


def blend_arguments(blend: argparse.ArgumentParser) -> None:
    blend.add_argument("a", type=existing_path)
    blend.add_argument("b", type=existing_path)
    blend.add_argument("--alpha", type=unit_interval, default=0.5, help="0 = A, 1 = B")
    blend.add_argument("--steps", type=int_at_least(2), help="write the whole path A -> B in this many steps")
    _model_arguments(blend)
    _span_arguments(blend)
    blend.add_argument("--start-b", type=non_negative_float, help="where to start in B (default: --start)")


def sample_arguments(sample: argparse.ArgumentParser) -> None:
    sample.add_argument("--label", required=True)
    sample.add_argument("--blend-with", help="second label: condition on the mean of the two embeddings")
    sample.add_argument("--n", type=int_at_least(1), default=10)
    _model_arguments(sample)


def run_train(args) -> int:
    from asmr_generate.mel.params import MODEL_PARAMS
    from asmr_generate.mel.train import train, with_overrides
    from asmr_training.run_record import recorded_params

    spec = spec_from_args(args)
    params = MODEL_PARAMS[args.model]()
    if spec.resume:  # what is not asked for again is the run's own
        params = recorded_params(spec.out, params)
    params = with_overrides(params, batch_size=args.batch_size)
    if args.model != "cgan":
        params = with_overrides(params, latent_dim=args.latent_dim, decoder_depth=args.decoder_depth)
    if args.model == "vae" and args.no_collapse_remedy:
        params = with_overrides(params, kl_warmup_epochs=0, free_bits=0.0)
    train(args.model, spec, params, verbose=2)
    print(f"saved run to {spec.out}")
    return 0


def run_generate(args) -> int:
    from asmr_generate.mel import generate
    from asmr_training.model_files import load_model

    model = load_model(args.model)
    if args.command == "vary":
        files = generate.vary(model, args.file, args.n, args.out, args.seconds, seed=args.seed, start=args.start)
    elif args.command == "blend":
        alphas = np.linspace(0.0, 1.0, args.steps) if args.steps else [args.alpha]
        start_b = args.start if args.start_b is None else args.start_b
        files = generate.blend(model, args.a, args.b, alphas, args.out, args.seconds, starts=(args.start, start_b))
    else:
        files = generate.sample(model, args.label, args.n, args.out, blend_with=args.blend_with, seed=args.seed)
    for f in files:
        print(f)
    return 0
