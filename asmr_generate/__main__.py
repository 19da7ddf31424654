"""`python -m asmr_generate`: routes mel-model commands and waveform-model commands to their CLIs."""

from __future__ import annotations

import sys

WAVE_MODELS = ("wavenet", "wavernn")
WAVE_COMMANDS = ("synth",)

USAGE = (
    "usage: asmr_generate {train,vary,blend,sample,synth} ...\n"
    "  train {ae,vae,cgan,wavenet,wavernn} ...   train a generator (see `train MODEL -h`)\n"
    "  vary | blend | sample ...                 use a trained AE / VAE / cGAN\n"
    "  synth ...                                 sample audio from a trained WaveNet / WaveRNN"
)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    is_wave = argv[0] in WAVE_COMMANDS or (argv[0] == "train" and len(argv) > 1 and argv[1] in WAVE_MODELS)
    if is_wave:
        from asmr_generate import wave_cli

        return wave_cli.main(argv)
    from asmr_generate import mel_cli

    return mel_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
