"""`python -m asmr_generate`: one parser whose sub-commands and model kinds route to the mel or wave CLI.

`train` takes a model kind ({ae,vae,cgan} -> asmr_generate.mel, {wavenet,wavernn} -> asmr_generate.wave);
`vary`, `blend` and `sample` use a trained mel model, `synth` a trained waveform model. Every leaf
parser sets `run`, its handler; the handlers import TensorFlow only when they run, so `-h` is fast.
"""

from __future__ import annotations

import argparse
import sys

from asmr_generate.mel import cli as mel_cli
from asmr_generate.wave import cli as wave_cli
from audioprep.cli import run_cli


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="asmr_generate", description="Generate ASMR trigger sounds: DeepASMR's "
                                  "AE / VAE / cGAN on log-mel slices, Adell's WaveNet / WaveRNN on waveforms.")
    commands = top.add_subparsers(dest="command", required=True, metavar="{train,vary,blend,sample,synth}")
    train = commands.add_parser("train", help="train a generator (see `train MODEL -h`)",
                                description="Train a generator; each model kind has its own options.")
    kinds = train.add_subparsers(dest="model", required=True, metavar="{ae,vae,cgan,wavenet,wavernn}")
    mel_cli.add_train_parsers(kinds)
    wave_cli.add_train_parsers(kinds)
    mel_cli.add_commands(commands)
    wave_cli.add_commands(commands)
    return top


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
