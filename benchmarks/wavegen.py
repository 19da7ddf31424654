"""Generation speed for 1 s of audio: WaveNet queued vs naive, and the compiled WaveRNN step.

Baseline (naive): every new sample runs the whole WaveNet over its last receptive field; ours (queued)
keeps per-layer queues so a sample costs one step per layer. Both run inside the same XLA-compiled
loop with the same sampling; compile time is excluded (one warm-up chunk each). Speed does not depend
on the weights, so freshly initialised models are timed. The naive path is timed on `--naive-samples`
samples and scaled to 1 s (its cost per sample is constant: a fixed window), unless `--full`. Goal: queued
>= 20x the naive path. Writes results/benchmarks/wavegen.json (under the git-ignored results/quick/ with other
flags); last line `ratio: <naive / queued time>`.

    python benchmarks/wavegen.py [--config paper] [--full]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import keras
import numpy as np
import tensorflow as tf
from record import announced_load, at_least, not_the_default, verdict, write_results

from asmr_generate.wave.codecs import mulaw_decode
from asmr_generate.wave.params import wavenet_params, wavernn_params
from asmr_generate.wave.sampling import CHUNK, WaveNetSampler, WaveRNNSampler, chunks, gumbel_sample
from asmr_generate.wave.wavenet import build_wavenet
from asmr_generate.wave.wavernn import build_wavernn

GOAL_SPEEDUP = 20.0


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class NaiveWaveNet:
    """Baseline: every new sample runs the whole network over its last receptive field, in the same kind of
    compiled CHUNK-step loop and with the same sampling as the queued sampler (batch 1, unconditioned).

    The loop is compiled once, here, so the warm-up call in `main` keeps compile time out of the timing."""

    def __init__(self, model: keras.Model):
        sampler = WaveNetSampler(model)
        self.model, self.window = model, sampler.receptive_field
        self.channels, self.quantization = sampler.channels, sampler.quantization
        self._run = tf.function(self._chunk, jit_compile=True)

    def _chunk(self, codes, seed):
        out = tf.TensorArray(tf.int32, size=CHUNK)
        for t in tf.range(CHUNK):
            logits = self.model({"audio": codes}, training=False)[:, -1]
            code = gumbel_sample(logits, 1.0, tf.stack([seed, t]))
            codes = tf.concat([codes[:, 1:], code[:, None]], axis=1)
            out = out.write(t, code)
        return tf.transpose(out.stack(), (1, 2, 0)), codes

    def generate(self, n: int, seed: int = 0) -> np.ndarray:
        """n samples of float audio (1, channels, n)."""
        codes = tf.fill((1, self.window, self.channels), self.quantization // 2)
        parts = []
        for start, step in chunks(n, False, ""):
            out, codes = self._run(codes, tf.constant(seed * 1_000_003 + start, tf.int32))
            parts.append(out.numpy()[..., :step])
        return mulaw_decode(np.concatenate(parts, axis=2), self.quantization)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=("default", "paper"), default="default")
    parser.add_argument("--naive-samples", type=int, default=512, help="samples the naive path is timed on")
    parser.add_argument("--full", action="store_true", help="time the naive path on the whole second")
    args = parser.parse_args(argv)
    load_start = announced_load("start")
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
    naive = NaiveWaveNet(wavenet)
    naive.generate(256)  # compile
    t_naive = timed(lambda: naive.generate(naive_n)) * n_net / naive_n
    how = "timed on the whole second" if naive_n == n_net else f"timed on {naive_n} samples, scaled to {n_net}"
    print(f"wavenet naive (whole receptive field per sample): {t_naive:.2f} s for 1 s of audio ({how}), "
          f"real-time factor {t_naive:.3f}")
    ratio = t_naive / t_queued
    goal = at_least(GOAL_SPEEDUP, ratio)
    print(f"goal: queued >= {GOAL_SPEEDUP:g}x the naive path ({ratio:.1f}x): {verdict(goal['met'])}")
    write_results("wavegen", {
        "data": f"none: 1 s of audio sampled unconditioned ({n_net} WaveNet samples, {n_rnn} WaveRNN samples)",
        "weights": f"freshly initialised WaveNet and WaveRNN, seed 0, config {args.config}",
        "seconds_per_second_of_audio": {"wavenet queued": round(t_queued, 3), "wavernn": round(t_rnn, 3),
                                        "wavenet naive": round(t_naive, 3)},
        "naive_timed_on_samples": naive_n,
        "goals": {"queued / naive speed": goal}, "ratio": round(ratio, 2)}, not_the_default(parser, args), load_start)
    print(f"ratio: {ratio:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
