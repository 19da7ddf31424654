"""Generation speed for 1 s of audio: WaveNet queued vs naive, and the compiled WaveRNN step.

Baseline (naive): every new sample runs the whole WaveNet over its last receptive field; ours (queued)
keeps per-layer queues so a sample costs one step per layer. Both run inside the same XLA-compiled
loop with the same sampling; compile time is excluded (one warm-up chunk each). Speed does not depend
on the weights, so freshly initialised models are timed. The naive path is timed on `--naive-samples`
samples and scaled to 1 s (its cost per sample is constant: a fixed window), unless `--full`.

    python benchmarks/wavegen.py [--config paper] [--full]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402

from asmr_generate.wave_params import wavenet_params, wavernn_params  # noqa: E402
from asmr_generate.wave_sampling import WaveNetSampler, WaveRNNSampler, naive_wavenet_generate  # noqa: E402
from asmr_generate.wavenet import build_wavenet  # noqa: E402
from asmr_generate.wavernn import build_wavernn  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=("default", "paper"), default="default")
    parser.add_argument("--naive-samples", type=int, default=512, help="samples the naive path is timed on")
    parser.add_argument("--full", action="store_true", help="time the naive path on the whole second")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    net_params, rnn_params = wavenet_params(args.config), wavernn_params(args.config)
    wavenet = build_wavenet(net_params)
    queued = WaveNetSampler(wavenet)
    rnn = WaveRNNSampler(build_wavernn(rnn_params))
    print(f"CPU: {platform.processor() or platform.machine()}, batch 1, config {args.config}")
    print(f"WaveNet: {net_params.stacks} stacks x {net_params.layers_per_stack} layers, {net_params.residual_channels} "
          f"residual channels, {net_params.sample_rate} Hz, receptive field {net_params.receptive_field} samples, "
          f"{wavenet.count_params():,} parameters")
    print(f"WaveRNN: {rnn_params.hidden} hidden units, {rnn_params.sample_rate} Hz, "
          f"{rnn.model.count_params():,} parameters")

    n_net, n_rnn = net_params.sample_rate, rnn_params.sample_rate
    queued.generate_codes(256, progress=False)  # compile
    t_queued = timed(lambda: queued.generate_codes(n_net, progress=False))
    print(f"wavenet queued: {t_queued:.2f} s for 1 s of audio ({n_net} samples), real-time factor {t_queued:.3f}")
    rnn.generate_codes(256, progress=False)
    t_rnn = timed(lambda: rnn.generate_codes(n_rnn, progress=False))
    print(f"wavernn compiled step: {t_rnn:.2f} s for 1 s of audio ({n_rnn} samples), real-time factor {t_rnn:.3f}")

    naive_n = n_net if args.full else min(args.naive_samples, n_net)
    naive_wavenet_generate(wavenet, 256)  # compile (the baseline builds its own compiled loop)
    t_naive = timed(lambda: naive_wavenet_generate(wavenet, naive_n)) * n_net / naive_n
    how = "timed on the whole second" if naive_n == n_net else f"timed on {naive_n} samples, scaled to {n_net}"
    print(f"wavenet naive (whole receptive field per sample): {t_naive:.2f} s for 1 s of audio ({how}), "
          f"real-time factor {t_naive:.3f}")
    print(f"ratio: {t_naive / t_queued:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
