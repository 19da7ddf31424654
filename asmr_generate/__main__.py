"""`python -m asmr_generate`: generate ASMR trigger sounds: DeepASMR's AE / VAE / cGAN on log-mel slices,
Adell's WaveNet / WaveRNN on waveforms.

`train` takes a model kind ({ae,vae,cgan} -> asmr_generate.mel, {wavenet,wavernn} -> asmr_generate.wave);
`vary`, `blend` and `sample` use a trained mel model, `synth` a trained waveform model. Only the chosen
command's module is imported, and TensorFlow only when a command runs, so `-h` is fast.
"""

from __future__ import annotations

import sys

from audioprep.commands import Command, Group, command_line

MEL, WAVE = "asmr_generate.mel.cli", "asmr_generate.wave.cli"


def _mel_kind(what: str) -> Command:
    return Command(f"{what} on ~1 s log-mel slices (DeepASMR)", f"{MEL}:train_arguments", f"{MEL}:run_train")


def _wave_kind(name: str) -> Command:
    return Command(f"a {name} on adell triggers (one trigger, or all with --conditioned)",
                   f"{WAVE}:train_arguments", f"{WAVE}:run_train")


COMMANDS = Group(__doc__, {
    "train": Group("train a generator (see `train MODEL -h`)", {
        "ae": _mel_kind("an autoencoder"), "vae": _mel_kind("a VAE"), "cgan": _mel_kind("a conditional GAN"),
        "wavenet": _wave_kind("WaveNet"), "wavernn": _wave_kind("WaveRNN"),
    }, dest="model"),
    "vary": Command("variations of one recording (AE / VAE)", f"{MEL}:vary_arguments", f"{MEL}:run_generate"),
    "blend": Command("latent interpolation between two recordings (AE / VAE)", f"{MEL}:blend_arguments",
                     f"{MEL}:run_generate"),
    "sample": Command("label-conditioned samples (cGAN)", f"{MEL}:sample_arguments", f"{MEL}:run_generate"),
    "synth": Command("sample audio from a trained WaveNet / WaveRNN", f"{WAVE}:synth_arguments", f"{WAVE}:run_synth"),
}, dest="command")

main = command_line("asmr_generate", __doc__.split("\n\n")[0], COMMANDS)

if __name__ == "__main__":
    sys.exit(main())
