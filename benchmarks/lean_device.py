"""LEAN on-device goals: the int8 TFLite file <= 4.5 MB, mAP drop from float <= 0.01, < 10 ms per 1 s window on one core.

    python benchmarks/lean_device.py            # the LEAN model of experiments/table6.py (trained here if missing)
    python benchmarks/lean_device.py --quick    # the --quick one
    python benchmarks/lean_device.py --model runs/X --data FSD50K

(Not `lean.py`: a script of that name would shadow the `lean` package it imports.)

Baseline: Keras `predict` on the same 1 s window in the same run, TensorFlow limited to one thread too; beside them,
MediaPipe Tasks' AudioClassifier (the Android engine) on the same int8 file and window, its threads pinned to one core
(its Python API has no thread setting), pre-processing included. The last line is
`ratio: <Keras predict latency / TFLite int8 latency>`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from asmr_tflite.export import constant_bytes
from asmr_training.model_files import load_model
from audioprep.cli import existing_path, run_cli
from experiments import harness, lean_setup
from lean.evaluate import evaluate
from lean.export import calibration_windows, export_tflite
from lean.scoring import KerasScorer, TfliteScorer
from lean.timing import busy_window, median_latency_ms

GOAL_MB, GOAL_DROP, GOAL_MS = 4.5, 0.01, 10.0


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


def main_(argv=None) -> int:
    parser = harness.data_parser(__doc__, lean_setup.DATA_HELP, lean_setup.RUNS)
    parser.add_argument("--model", type=existing_path, help="trained LEAN run folder or .keras (default: table6's)")
    lean_setup.add_arguments(parser)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
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
        constants_mb = constant_bytes(report["path"]) / 1e6
        int8 = TfliteScorer(report["path"], threads=1)
        window = busy_window(eval_set.clips, params.patch_samples)
        tflite_ms = median_latency_ms(int8.score_one, window, args.repeats)
        mediapipe_ms = mediapipe_latency_ms(report["path"], window, params.sample_rate, args.repeats)
        keras_ms = median_latency_ms(lambda w: model.predict(w[None], verbose=0), window, max(20, args.repeats // 10))
        float_map = evaluate(KerasScorer(model), eval_set, params)["mAP"]
        int8_map = evaluate(int8, eval_set, params)["mAP"]
    size_mb = report["bytes"] / 1e6
    drop = float_map - int8_map
    print(f"data: {s.data.root} ({len(eval_set)} eval clips){' --quick' if args.quick else ''}; " + "; ".join(s.notes))
    print(f"int8 file: {size_mb:.3f} MB ({report['bytes'] / 2**20:.3f} MiB), goal <= {GOAL_MB} MB: "
          f"{'met' if size_mb <= GOAL_MB else f'missed by {size_mb - GOAL_MB:.3f} MB'}; its constant tensors alone "
          f"(int8 weights, int32 biases, float mel matrix) are {constants_mb:.3f} MB")
    print(f"mAP: Keras float {float_map:.4f}, TFLite int8 {int8_map:.4f}, drop {drop:+.4f}, goal <= {GOAL_DROP}: "
          f"{'met' if drop <= GOAL_DROP else f'missed by {drop - GOAL_DROP:.4f}'}")
    print(f"latency per 1 s window, one core: TFLite int8 {tflite_ms:.2f} ms (goal < {GOAL_MS} ms: "
          f"{'met' if tflite_ms < GOAL_MS else 'missed'}); MediaPipe AudioClassifier {mediapipe_ms:.2f} ms; "
          f"Keras predict {keras_ms:.2f} ms")
    print(f"ratio: {keras_ms / tflite_ms:.2f}")
    return 0


def main(argv=None) -> int:
    return run_cli(main_, argv)


if __name__ == "__main__":
    sys.exit(main())
