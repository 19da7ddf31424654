"""Mel -> audio throughput: batched Griffin-Lim (`asmr_generate.mel.invert.mel_to_audio`) vs librosa one clip at a time.

Both paths invert the same DeepASMR log-mel slices (22.05 kHz, n_fft 1024, hop 344, 64 mels, no
centring) with the same number of Griffin-Lim iterations. Prints seconds of audio inverted per
second of wall time for each, how close each result's re-analysed log-mel is to the input (so speed
is not bought with a worse inversion), the goal (batched >= 3x librosa's throughput) and last
`ratio: <batched / librosa throughput>`. Writes results/benchmarks/inversion.json (under the git-ignored
results/quick/ with other flags).

    python benchmarks/inversion.py [--clips 32] [--iters 32] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import librosa
import numpy as np
from record import announced_load, at_least, not_the_default, verdict, write_results

from asmr_generate.mel.invert import mel_to_audio
from audioprep.features import log_mel
from audioprep.params import MelSliceParams

GOAL_SPEEDUP = 3.0


def test_slices(k: int, p: MelSliceParams, seed: int = 0) -> np.ndarray:
    """k log-mel slices of decaying noise bursts with a tonal part (tapping-like, reproducible)."""
    rng = np.random.default_rng(seed)
    t = np.arange(p.slice_samples) / p.sample_rate
    clips = []
    for _ in range(k):
        taps = np.zeros_like(t)
        for onset in rng.uniform(0, t[-1], 6):
            env = np.where(t >= onset, np.exp(-(t - onset) * rng.uniform(20, 60)), 0.0)
            taps += env * (rng.standard_normal(len(t)) * 0.3 + np.sin(2 * np.pi * rng.uniform(300, 3000) * t))
        clips.append(0.2 * taps / np.abs(taps).max())
    return log_mel(np.stack(clips).astype(np.float32), p)


def librosa_loop(log_mels: np.ndarray, p: MelSliceParams, n_iter: int) -> list[np.ndarray]:
    """The baseline: librosa's NNLS mel inversion + Griffin-Lim, one clip per call."""
    return [
        librosa.feature.inverse.mel_to_audio(
            np.maximum(np.exp(m.T) - p.log_floor, 0.0), sr=p.sample_rate, n_fft=p.n_fft, hop_length=p.hop_length,
            center=False, power=2.0, n_iter=n_iter, fmin=p.fmin, fmax=p.fmax,
        )
        for m in log_mels
    ]


def batched(log_mels: np.ndarray, p: MelSliceParams, n_iter: int) -> np.ndarray:
    return mel_to_audio(log_mels, p, n_iter=n_iter)


def timed(fn, *args, repeats: int) -> tuple[float, object]:
    out = fn(*args)  # warm-up: graph tracing, FFT plans, numba compilation
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, out


def mel_error(audio, log_mels: np.ndarray, p: MelSliceParams) -> float:
    """Mean |log-mel(inverted audio) - input log-mel| over the frames both cover."""
    errs = []
    for a, m in zip(audio, log_mels, strict=True):
        again = log_mel(np.asarray(a, np.float32)[None, : p.slice_samples], p)[0]
        n = min(len(again), len(m))
        errs.append(np.mean(np.abs(again[:n] - m[:n])))
    return float(np.mean(errs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--iters", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    load_start = announced_load("start")
    p = MelSliceParams()
    mels = test_slices(args.clips, p)
    seconds = args.clips * p.slice_samples / p.sample_rate
    t_lib, out_lib = timed(librosa_loop, mels, p, args.iters, repeats=args.repeats)
    t_ours, out_ours = timed(batched, mels, p, args.iters, repeats=args.repeats)
    err_lib, err_ours = mel_error(out_lib, mels, p), mel_error(out_ours, mels, p)
    print(f"{args.clips} slices ({seconds:.1f} s of audio), {args.iters} Griffin-Lim iterations, best of {args.repeats}")
    print(f"librosa.feature.inverse.mel_to_audio, one clip at a time: {t_lib:.2f} s -> {seconds / t_lib:.1f} "
          f"audio-s/s, log-mel error {err_lib:.3f}")
    print(f"asmr_generate.mel.invert.mel_to_audio, batched:                  {t_ours:.2f} s -> {seconds / t_ours:.1f} "
          f"audio-s/s, log-mel error {err_ours:.3f}")
    ratio = t_lib / t_ours
    goal = at_least(GOAL_SPEEDUP, ratio)
    print(f"goal: batched >= {GOAL_SPEEDUP:g}x librosa's throughput ({ratio:.2f}x): {verdict(goal['met'])}")
    write_results("inversion", {
        "data": f"{args.clips} generated log-mel slices ({seconds:.1f} s of audio; decaying noise bursts with a tonal "
                f"part), {p.sample_rate} Hz, {p.n_mels} mels",
        "weights": "none", "iterations": args.iters, "repeats": args.repeats,
        "librosa": {"best_wall_s": round(t_lib, 3), "log_mel_error": round(err_lib, 4)},
        "batched": {"best_wall_s": round(t_ours, 3), "log_mel_error": round(err_ours, 4)},
        "goals": {"batched / librosa throughput": goal}, "ratio": round(ratio, 2)}, not_the_default(parser, args), load_start)
    print(f"ratio: {ratio:.2f}")

if __name__ == "__main__":
    main()
