"""LEAN on-device goals: the int8 TFLite file <= 4.5 MB, mAP drop from float <= 0.01, < 10 ms per 1 s window on one core.

The size is judged against 4.5 MB (4,500,000 bytes) and, beside it, 4.5 MiB (4,718,592 bytes: the paper's "4.5MB"
for 4.58 M int8 weights reads as MiB); the file's parts (asmr_tflite.sizes) show the floor no 8-bit file goes under.

    python benchmarks/lean_device.py            # the LEAN model of experiments/table6.py (trained here if missing)
    python benchmarks/lean_device.py --quick    # the --quick one
    python benchmarks/lean_device.py --model runs/X --data FSD50K

(Not `lean.py`: a script of that name would shadow the `lean` package it imports.)

Baseline: Keras `predict` on the same 1 s window in the same run, TensorFlow limited to one thread too; beside them,
MediaPipe Tasks' AudioClassifier (the Android engine) on the same int8 file and window, its threads pinned to one core
(its Python API has no thread setting), pre-processing included. Writes results/benchmarks/lean_device.json
(`--quick`: under the git-ignored results/quick/). The last line is
`ratio: <Keras predict latency / TFLite int8 latency>`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import numpy as np
from record import announced_load, verdict, write_results

from asmr_tflite.sizes import size_breakdown
from asmr_training.model_files import load_model
from audioprep.cli import existing_path, run_cli
from experiments import harness, lean_setup
from lean.evaluate import clip_scores, scores_metrics
from lean.export import calibration_windows, export_tflite
from lean.scoring import KerasScorer, TfliteScorer
from lean.timing import busy_window, median_latency_ms

GOAL_BYTES, GOAL_DROP, GOAL_MS = 4_500_000, 0.01, 10.0
MIB_BYTES = int(4.5 * 2**20)  # the same 4.5 read as MiB


def mediapipe_latency_ms(path, window, sample_rate: int, repeats: int) -> float:
    """Median ms of MediaPipe's AudioClassifier on one window (clip mode), on one core of this process."""
    from mediapipe.tasks.python import audio
    from mediapipe.tasks.python.components.containers.audio_data import AudioData
    from mediapipe.tasks.python.core.base_options import BaseOptions

    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # threads the classifier starts inherit the one core
    try:
        options = audio.AudioClassifierOptions(base_options=BaseOptions(model_asset_path=str(path)),
                                               running_mode=audio.RunningMode.AUDIO_CLIPS)
        with audio.AudioClassifier.create_from_options(options) as classifier:
            return median_latency_ms(lambda w: classifier.classify(AudioData.create_from_array(w, sample_rate)),
                                     window, repeats)
    finally:
        os.sched_setaffinity(0, cores)


def _met(ok: bool, by: str) -> str:
    return "met" if ok else f"missed by {by}"


def _side(gap: str, met: bool) -> str:
    """A goal's distance: how far under its limit, or over it."""
    return f"{gap} {'under' if met else 'over'}"


def main_(argv=None) -> int:
    parser = harness.data_parser(__doc__, lean_setup.DATA_HELP, lean_setup.RUNS)
    parser.add_argument("--model", type=existing_path, help="trained LEAN run folder or .keras (default: table6's)")
    lean_setup.add_arguments(parser)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    load_start = announced_load("start")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)  # Keras on one core too, like the TFLite figure
    tf.config.threading.set_inter_op_parallelism_threads(1)
    s = lean_setup.setup(args)
    params = s.params
    model = load_model(args.model) if args.model else lean_setup.trained("lean", s)
    eval_set = s.data.splits["eval"]
    representative = calibration_windows(s.data.splits["train"].clips, params, s.budget.calibration_windows)
    with tempfile.TemporaryDirectory() as tmp:
        report = export_tflite(model, Path(tmp) / "lean_int8.tflite", s.data.vocabulary, "int8", representative, params)
        parts = size_breakdown(report["path"])
        int8 = TfliteScorer(report["path"], threads=1)
        window = busy_window(eval_set.clips, params.patch_samples)
        tflite_ms = median_latency_ms(int8.score_one, window, args.repeats)
        mediapipe_ms = mediapipe_latency_ms(report["path"], window, params.sample_rate, args.repeats)
        keras_ms = median_latency_ms(lambda w: model.predict(w[None], verbose=0), window, max(20, args.repeats // 10))
        keras_scores = clip_scores(KerasScorer(model), eval_set.clips, params)
        int8_scores = clip_scores(int8, eval_set.clips, params)
    size, floor = report["bytes"], parts["int8_constants"] + parts["int32_constants"]
    float_map = scores_metrics(eval_set.labels, keras_scores)["mAP"]
    int8_map = scores_metrics(eval_set.labels, int8_scores)["mAP"]
    drop, diff = float_map - int8_map, np.abs(int8_scores - keras_scores)
    print(f"data: {s.data.root} ({len(eval_set)} eval clips){' --quick' if args.quick else ''}; " + "; ".join(s.notes))
    print(f"int8 file: {size:,} bytes = {size / 1e6:.3f} MB ({size / 2**20:.3f} MiB); goal <= 4.5 MB ({GOAL_BYTES:,} bytes): "
          f"{_met(size <= GOAL_BYTES, f'{(size - GOAL_BYTES) / 1e6:.3f} MB')}; <= 4.5 MiB ({MIB_BYTES:,} bytes): "
          f"{_met(size <= MIB_BYTES, f'{(size - MIB_BYTES) / 2**20:.3f} MiB')}")
    print("int8 file parts (bytes): " + ", ".join(f"{name} {value:,}" for name, value in parts.items())
          + f"; int8 weights + int32 constants (biases, shapes) alone: {floor:,}" + (" (over 4.5 MB: no 8-bit file of this model fits it)"
                                                                 if floor > GOAL_BYTES else ""))
    print(f"mAP: Keras float {float_map:.4f}, TFLite int8 {int8_map:.4f}, drop {drop:+.4f}, goal <= {GOAL_DROP}: "
          f"{_met(drop <= GOAL_DROP, f'{drop - GOAL_DROP:.4f}')}; clip scores |int8 - Keras|: mean {diff.mean():.4f}, "
          f"max {diff.max():.4f}")
    goals = {
        "int8 file": {"goal": f"<= 4.5 MB ({GOAL_BYTES:,} bytes)", "value": size, "met": size <= GOAL_BYTES,
                      "distance": _side(f"{abs(size - GOAL_BYTES) / 1e6:.3f} MB", size <= GOAL_BYTES)},
        "int8 file in MiB": {"goal": f"<= 4.5 MiB ({MIB_BYTES:,} bytes)", "value": size, "met": size <= MIB_BYTES,
                             "distance": _side(f"{abs(size - MIB_BYTES) / 2**20:.3f} MiB", size <= MIB_BYTES)},
        "mAP drop": {"goal": f"<= {GOAL_DROP}", "value": round(drop, 4), "met": drop <= GOAL_DROP,
                     "distance": _side(f"{abs(drop - GOAL_DROP):.4f}", drop <= GOAL_DROP)},
        "TFLite int8 latency": {"goal": f"< {GOAL_MS:g} ms per 1 s window, one core", "value": round(tflite_ms, 2),
                                "met": tflite_ms < GOAL_MS,
                                "distance": _side(f"{abs(GOAL_MS - tflite_ms):.2f} ms", tflite_ms < GOAL_MS)},
    }
    print(f"latency per 1 s window, one core: TFLite int8 {tflite_ms:.2f} ms (goal < {GOAL_MS} ms: "
          f"{verdict(goals['TFLite int8 latency']['met'])}); MediaPipe AudioClassifier {mediapipe_ms:.2f} ms; "
          f"Keras predict {keras_ms:.2f} ms")
    write_results("lean_device", {
        "data": f"{harness.portable(str(s.data.root))}, {len(eval_set)} eval clips, {len(s.data.vocabulary)} classes"
                + "".join(f"; {note}" for note in s.notes if note != s.backbone),
        "weights": (f"LEAN from {harness.portable(str(args.model))}" if args.model else
                    f"LEAN as experiments/table6.py trains it ({s.budget.name} budget, seed {params.seed})")
                   + f"; {s.backbone}",
        "int8_bytes": size, "int8_parts_bytes": parts,
        "map": {"keras_float": round(float_map, 4), "tflite_int8": round(int8_map, 4)},
        "latency_ms": {"tflite int8": round(tflite_ms, 2), "mediapipe": round(mediapipe_ms, 2),
                       "keras predict": round(keras_ms, 2)},
        "goals": goals, "ratio": round(keras_ms / tflite_ms, 2)}, args.quick, load_start)
    print(f"ratio: {keras_ms / tflite_ms:.2f}")
    return 0


def main(argv=None) -> int:
    return run_cli(main_, argv)


if __name__ == "__main__":
    sys.exit(main())
