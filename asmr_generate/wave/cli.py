"""The waveform models' commands under `python -m asmr_generate`: `train {wavenet,wavernn}` and `synth`."""

from __future__ import annotations

import argparse
import dataclasses

from asmr_training.run_spec import add_run_arguments, spec_from_args
from audioprep.cli import existing_path, int_at_least, positive_float
from audioprep.errors import UsageError


def train_arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p, out_required=True, out_help="run folder (best.keras, last.keras, history.csv, params.json)",
                      data_help="adell-layout folder (default: the generated corpus)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--trigger", help='the one trigger of an unconditioned model, e.g. "tapping/glass"')
    group.add_argument("--conditioned", action="store_true", default=None,
                       help="one model for every trigger (global conditioning)")
    p.add_argument("--triggers", help='with --conditioned: comma-separated subset, e.g. "tapping/glass,brushing/cork"')
    p.add_argument("--conditioning", choices=("bias", "concat"),
                   help="WaveRNN conditioning: equations 2 (gate bias) or 3 (bias + embedding beside h; the default)")
    p.add_argument("--stereo", action="store_true", default=None, help="two-channel WaveNet predicting both channels jointly")
    p.add_argument("--config", choices=("default", "paper"),
                   help="default (the default): small CPU config; paper: Adell et al. Table 1 (WaveNet)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override one hyper-parameter of the config, e.g. --set residual_channels=16 (repeatable)")
    p.add_argument("--sample-every", type=int_at_least(0), default=250, metavar="N",
                   help="write audio samples into OUT/samples every N training steps (0: never)")
    p.add_argument("--sample-seconds", type=positive_float, default=0.5, help="length of those samples")


def synth_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=existing_path, required=True, help="run folder or model file beside its params.json")
    p.add_argument("--trigger", help="trigger to generate (required for a conditioned model)")
    p.add_argument("--seconds", type=positive_float, default=2.0)
    p.add_argument("--temperature", type=positive_float, default=1.0, help="softmax temperature (< 1: more conservative)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="audio file to write (.wav, .flac, .ogg)")


def _overrides(kind: str, pairs: list[str]) -> dict:
    """`--set FIELD=VALUE` pairs -> typed overrides of the model's params dataclass (ranges: wave.train.check_params)."""
    from asmr_generate.wave.train import make_params

    fields = {f.name: f for f in dataclasses.fields(make_params(kind))}
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in fields:
            raise UsageError(f"--set {pair}: expected FIELD=VALUE with FIELD one of {', '.join(fields)}")
        caster = float if fields[name].type in ("float", float) else int
        try:
            out[name] = caster(value)
        except ValueError as err:
            raise UsageError(f"--set {pair}: {value!r} is not a number") from err
    return out


def run_train(args) -> int:
    from asmr_generate.wave.train import train
    from asmr_training.run_dir import read_history
    from asmr_training.run_record import read_classes

    result = train(
        args.model, spec_from_args(args), trigger=args.trigger, conditioned=args.conditioned,
        triggers=args.triggers.split(",") if args.triggers else None, conditioning=args.conditioning,
        config=args.config, stereo=args.stereo, sample_every=args.sample_every, sample_seconds=args.sample_seconds,
        **_overrides(args.model, args.set),
    )
    history = read_history(result.path)
    last = history[-1] if history else {}
    print(f"{args.model} on {', '.join(read_classes(result.path) or ())}: {len(history)} epochs, "
          f"val_loss {last.get('val_loss', float('nan')):.4f} -> {result.path}")
    return 0


def synthesize(model_path, seconds: float, trigger: str | None = None, temperature: float = 1.0, seed: int = 0,
               progress: bool = True):
    """(audio (channels, n), sample rate) sampled from a run folder or model file."""
    from asmr_generate.wave.sampling import sampler_for
    from asmr_generate.wave.train import read_run
    from asmr_training.model_files import load_model

    setup, params = read_run(model_path)
    index = None
    if setup.conditioned:
        if trigger not in setup.triggers:
            given = f" {trigger}" if trigger else ""
            raise UsageError(f"--trigger{given}: the model is conditioned on {', '.join(setup.triggers)}; pick one")
        index = setup.triggers.index(trigger)
    elif trigger is not None and trigger != setup.triggers[0]:
        raise UsageError(f"--trigger {trigger}: this model was trained on {setup.triggers[0]} only")
    sampler = sampler_for(load_model(model_path))
    n = int(round(seconds * params.sample_rate))
    audio = sampler.generate(n, trigger=index, temperature=temperature, seed=seed, progress=progress)[0]
    return audio, params.sample_rate


def run_synth(args) -> int:
    from audioprep.io import write_audio

    audio, sr = synthesize(args.model, args.seconds, args.trigger, args.temperature, args.seed)
    write_audio(args.out, audio[0] if audio.shape[0] == 1 else audio, sr)
    print(f"wrote {args.out}: {audio.shape[-1] / sr:.2f} s, {audio.shape[0]} channel(s), {sr} Hz")
    return 0
