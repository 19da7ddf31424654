"""LEAN Table IV (on device): TFLite size, mAP before and after quantization, latency per 1 s window.

    python experiments/table7.py                  # generated fsd50k corpus, the LEAN model of table6
    python experiments/table7.py --quick          # the --quick LEAN model of table6, fewer eval clips
    python experiments/table7.py --quantize int8  # only the full-int8 file
    python experiments/table7.py --data FSD50K

Exports the trained LEAN model (trained here if table6 has not) as float, dynamic-range and
full-int8 TFLite files (builtin ops only), evaluates each on the eval split the paper's way, and
times one 1 s window on this CPU at 1 and 2 threads. The paper's 4.5 MB / .445 / 65 ms were
measured on a Samsung S21 phone; numbers on the generated corpus are not the paper's.
Writes results/table7/{table.md, results.json}; the exported files (with their labels) go beside
the model they export, <runs>/.../tflite/lean_{none,dynamic,int8}.tflite (runs/lean/ by default).
"""

from __future__ import annotations

import sys
import time

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

from asmr_tflite.export import QUANTIZE
from audioprep.cli import int_at_least, run_cli
from audioprep.report import markdown_table
from experiments import harness, lean_setup
from lean.evaluate import evaluate
from lean.export import Exporter, calibration_windows
from lean.scoring import KerasScorer, TfliteScorer
from lean.timing import busy_window, median_latency_ms

PAPER = {"size_mb": 4.5, "mAP": 0.445, "latency_ms": 65, "device": "Samsung S21 (Exynos 2100), quantized TFLite"}
NAMES = {"none": "float32", "dynamic": "dynamic-range int8", "int8": "full int8"}


def _main(argv=None) -> int:
    parser = harness.parser(__doc__, "table7", lean_setup.DATA_HELP, runs=lean_setup.RUNS)
    lean_setup.add_arguments(parser)
    parser.add_argument("--repeats", type=int_at_least(1), default=100, help="timed invokes per latency figure")
    parser.add_argument("--quantize", nargs="+", choices=QUANTIZE, default=QUANTIZE,
                        help="only these exports (default: all three)")
    args = parser.parse_args(argv)
    started = time.time()
    s = lean_setup.setup(args)
    params = s.params
    model = lean_setup.trained("lean", s)
    eval_set = s.data.splits["eval"]
    keras_result = evaluate(KerasScorer(model), eval_set, params)
    window = busy_window(eval_set.clips, params.patch_samples)
    representative = calibration_windows(s.data.splits["train"].clips, params, s.budget.calibration_windows)
    rows, results = [], {"keras": {"mAP": keras_result["mAP"], "mAUC": keras_result["mAUC"]}}
    exporter = Exporter(model, s.data.vocabulary, params)  # traced once for every file
    for q in (q for q in QUANTIZE if q in args.quantize):
        path = s.runs / "tflite" / f"lean_{q}.tflite"
        report = exporter.write(path, q, representative if q == "int8" else None)
        result = evaluate(TfliteScorer(path, threads=2), eval_set, params)
        latency = {t: median_latency_ms(TfliteScorer(path, threads=t).score_one, window, args.repeats) for t in (1, 2)}
        results[q] = {**report, "mAP": result["mAP"], "mAUC": result["mAUC"], "latency_ms": latency}
        rows.append(
            [
                f"LEAN {NAMES[q]}",
                f"{report['bytes'] / 1e6:.2f} MB ({report['bytes'] / 2**20:.2f} MiB)",
                f"{result['mAP']:.4f}",
                f"{result['mAP'] - keras_result['mAP']:+.4f}",
                f"{latency[1]:.1f} ms",
                f"{latency[2]:.1f} ms",
                "4.5 MB / .445 / 65 ms" if q == "int8" else "-",
            ]
        )
        print(f"   {q}: {rows[-1]}", flush=True)
    headers = ["model", "file size", "mAP", "vs Keras float", "latency 1 thread", "latency 2 threads", "paper (phone)"]
    table = markdown_table(headers, rows)
    notes = s.notes + [
        f"Keras float model: mAP {keras_result['mAP']:.4f}, mAUC {keras_result['mAUC']:.4f} ({len(eval_set)} eval clips, "
        "1 s chunks, 50 % overlap).",
        "Latency: median of one 1 s window (a real, non-silent eval window) per LiteRT invoke on this machine's CPU; "
        f"the paper's 65 ms is on a {PAPER['device']}.",
        "Every file is builtin-ops only (checked on export); the log-mel front end is inside the model.",
        f"wall time {time.time() - started:.0f} s.",
    ]
    text = "## Table IV: LEAN on device (TFLite)\n\n" + table + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print("\n" + text)
    harness.write_results(
        args.out,
        text,
        {"data": str(s.data.root), "yamnet": s.backbone, "results": results, "paper": PAPER, "notes": notes},
        quick=args.quick,
    )
    return 0


def main(argv=None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
