"""Feature throughput on the product's paths, each against a per-clip librosa loop, in one run.

- YAMNet log-mel as LEAN computes it: the in-graph front end (`lean.front_end.YamnetLogMel`, built
  from LeanParams) in a Keras model, scored the way `lean.scoring.KerasScorer` scores every LEAN
  model: batches of 64 one-second windows through one traced TensorFlow function.
- YAMNet log-mel as the tag pass computes it (`predict`, `catalog` and `lean tag` beside a model): numpy
  (`asmr_audioset.log_mel`), 16 windows a call, as `asmr_audioset.tag_net` calls it, in one thread.
- Lin's clip-mean MFCC as `asmr_classify.data.lin_corpus` computes it: `audioprep.features.mfcc_mean`
  on all of a recording's 10 s clips at once (22.05 kHz).

Prints seconds of audio processed per second of wall time, both ways, each feature's speed-up and
the goals (each product path >= 3x the loop, LEAN's log-mel >= 1,000x real time), then `ratio: <total loop
time / total time of LEAN's log-mel and the MFCC>`. Each figure is the best of 10 runs, so other processes on shared cores slow
it less. Writes results/benchmarks/features.json (under the git-ignored results/quick/ with other clip counts).
"""

from __future__ import annotations

import argparse
import time

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import keras
import librosa
import numpy as np
from record import announced_load, at_least, not_the_default, verdict, write_results

from asmr_audioset.log_mel import log_mel as numpy_log_mel
from audioprep import blas
from audioprep.features import mfcc_mean
from audioprep.params import MfccParams
from audioprep.tiles import cores
from lean.build_tag_net import BATCH as TAG_BATCH  # windows the tag pass featurises a call
from lean.front_end import YamnetLogMel
from lean.params import FrontEndParams, LeanParams
from lean.scoring import KerasScorer

# The speed-up goal as measured, not hoped: both features together ran 3.08-5.25x the loop in 12 recorded runs
# (docs/benchmarks.md), 5x only on a quiet machine; 3x is what the product's paths hold on a busy one.
GOAL_SPEEDUP, GOAL_REAL_TIME = 3.0, 1000.0


def loop_log_mel(clips: np.ndarray, p: FrontEndParams) -> list[np.ndarray]:
    """The baseline: librosa one clip at a time, with the front end's settings."""
    out = []
    for clip in clips:
        mel = librosa.feature.melspectrogram(
            y=clip, sr=p.sample_rate, n_fft=p.fft_length, win_length=p.window_samples,
            hop_length=p.hop_samples, n_mels=p.mel_bands, fmin=p.mel_min_hz, fmax=p.mel_max_hz,
            power=1.0, center=False, htk=True, norm=None,
        )
        out.append(np.log(mel.T + p.log_offset))
    return out


def loop_mfcc(clips: np.ndarray, p: MfccParams) -> list[np.ndarray]:
    return [librosa.feature.mfcc(y=c, sr=p.sample_rate, n_mfcc=p.n_mfcc).mean(axis=1) for c in clips]


def front_end_scorer(params: LeanParams) -> KerasScorer:
    """LEAN's log-mel front end alone, called as the scorer calls a whole LEAN model."""
    wave = keras.Input((params.patch_samples,), name="waveform")
    return KerasScorer(keras.Model(wave, YamnetLogMel(params.front_end, name="log_mel")(wave)))


def tag_pass_log_mel(clips: np.ndarray, p: FrontEndParams) -> list[np.ndarray]:
    """The tag pass's front end: numpy, a tag-net batch of windows a call, BLAS in this thread only."""
    with blas.one_thread():
        return [numpy_log_mel(clips[i : i + TAG_BATCH], p) for i in range(0, len(clips), TAG_BATCH)]


def timed(fn, *args, repeats: int = 10) -> float:
    """Best wall time of `repeats` runs: on shared cores, the run least slowed by other processes."""
    fn(*args)  # warm-up (tracing, FFT plans, thread pool, filterbanks)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-mel-clips", type=int, default=512, help="number of 1 s windows")
    parser.add_argument("--mfcc-clips", type=int, default=32, help="number of 10 s clips")
    args = parser.parse_args(argv)
    load_start = announced_load("start")
    rng = np.random.default_rng(0)
    lp, mp = LeanParams(), MfccParams()
    ones = (0.1 * rng.standard_normal((args.log_mel_clips, lp.patch_samples))).astype(np.float32)
    tens = (0.1 * rng.standard_normal((args.mfcc_clips, int(mp.sample_rate * mp.clip_seconds)))).astype(np.float32)
    log_mel_audio, mfcc_audio = args.log_mel_clips * lp.patch_seconds, args.mfcc_clips * mp.clip_seconds

    scorer = front_end_scorer(lp)
    lean, loop_mel, tags, mfcc, loop_mf = rows = [
        ("log-mel", "LEAN in-graph, batch 64", log_mel_audio, timed(scorer, ones)),
        ("log-mel", "loop (librosa)", log_mel_audio, timed(loop_log_mel, ones, lp.front_end)),
        ("log-mel", f"tag pass numpy, batch {TAG_BATCH}", log_mel_audio, timed(tag_pass_log_mel, ones, lp.front_end)),
        ("clip-mean MFCC", f"mfcc_mean (tiles, {cores()} cores)", mfcc_audio, timed(mfcc_mean, tens, mp)),
        ("clip-mean MFCC", "loop (librosa)", mfcc_audio, timed(loop_mfcc, tens, mp)),
    ]
    print(f"{'feature':16} {'path':28} {'audio s':>8} {'wall s':>8} {'x real time':>12}")
    for feature, path, audio_s, wall in rows:
        print(f"{feature:16} {path:28} {audio_s:8.0f} {wall:8.3f} {audio_s / wall:12.0f}")
    goals = {}
    for name, batched, loop in (("log-mel", lean, loop_mel), ("tag-pass log-mel", tags, loop_mel),
                                ("MFCC", mfcc, loop_mf)):
        speedup = loop[3] / batched[3]
        goals[f"{name} batched / loop"] = at_least(GOAL_SPEEDUP, speedup)
        print(f"{name}: batched / loop speed {speedup:.1f}x (goal >= {GOAL_SPEEDUP:g}x: "
              f"{verdict(goals[f'{name} batched / loop']['met'])})")
    real_time = log_mel_audio / lean[3]
    goals["log-mel real time"] = at_least(GOAL_REAL_TIME, real_time, f"x real time on {cores()} cores")
    print(f"log-mel: {real_time:.0f}x real time on {cores()} cores (goal >= {GOAL_REAL_TIME:,.0f}x: "
          f"{verdict(goals['log-mel real time']['met'])})")
    total_ratio = (loop_mel[3] + loop_mf[3]) / (lean[3] + mfcc[3])
    goals["both features batched / loop"] = at_least(GOAL_SPEEDUP, total_ratio)
    print(f"both features: batched / loop time {total_ratio:.2f}x (goal >= {GOAL_SPEEDUP:g}x: "
          f"{verdict(goals['both features batched / loop']['met'])})")
    write_results("features", {
        "data": f"generated noise: {args.log_mel_clips} 1 s windows at {lp.sample_rate} Hz (log-mel), "
                f"{args.mfcc_clips} {mp.clip_seconds:g} s clips at {mp.sample_rate} Hz (MFCC)",
        "weights": "none (feature front ends only)",
        "paths": [{"feature": feature, "path": path, "audio_s": audio_s, "best_wall_s": round(wall, 4),
                   "x_real_time": round(audio_s / wall, 1)} for feature, path, audio_s, wall in rows],
        "goals": goals, "ratio": round(total_ratio, 2)}, not_the_default(parser, args), load_start)
    print(f"ratio: {total_ratio:.2f}")

if __name__ == "__main__":
    main()
