"""LEAN Table III (ablation) and Table II (classes improved), beside the paper's.

    python experiments/table6.py                      # generated fsd50k corpus, Google's YAMNet (asmr_audioset/assets)
    python experiments/table6.py --quick              # a few minutes (lean/budget.py's QUICK budget)
    python experiments/table6.py --data FSD50K        # the real dataset
    python experiments/table6.py --yamnet standin     # YAMNet pretrained here on the corpus instead

Trains the five models (yamnet_frozen, yamnet_finetune, joint, joint_affinity, lean) on the dev
train split, keeps each one's best validation PR-AUC checkpoint, evaluates on the eval split in
1 s chunks with 50 % overlap, and writes results/table6/{table.md, results.json, map.png}; the
models stay in runs/lean/ for table7 and benchmarks/lean_device.py. `--variants` trains only some of them.
YAMNet is Google's AudioSet YAMNet shipped in asmr_audioset/assets unless --yamnet names other weights (every
table says which). Numbers on the generated corpus are not the paper's.
"""

from __future__ import annotations

import sys
import time

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

from audioprep.cli import run_cli
from audioprep.report import markdown_table
from experiments import harness, lean_setup
from lean.evaluate import classes_improved, evaluate
from lean.model import PAPER, PAPER_CLASSES, VARIANTS, params_with_classes
from lean.report import bar_chart
from lean.scoring import KerasScorer

# Table II of the paper: (baseline B, reference R) -> classes of 200 improved overall / by 5 % / 10 % / 20 %.
PAPER_TABLE2 = {
    ("yamnet_finetune", "joint"): (140, 55, 31, 13),
    ("yamnet_finetune", "lean"): (135, 53, 30, 14),
    ("joint", "lean"): (96, 27, 9, 3),
}
PARAMS_NOTE = (
    f"Parameters are counted with the paper's {PAPER_CLASSES} FSD50K classes (the column 'ours' uses this "
    "corpus's classes). They match the paper: yamnet_frozen is frozen YAMNet + a sigmoid head (no projection; "
    "3,422,344), yamnet_finetune adds the 256-d projection (3,531,144), joint adds the Wave Encoder (4,518,280: "
    "the paper prints 4.51M, truncated), affinity attention adds nothing, Bahdanau d=128 adds 65,921 (4,584,201)."
)


def _main(argv=None) -> int:
    parser = harness.parser(__doc__, "table6", lean_setup.DATA_HELP, runs=lean_setup.RUNS)
    lean_setup.add_arguments(parser)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS, help="only these models (default: all)")
    args = parser.parse_args(argv)
    started = time.time()
    variants = [v for v in VARIANTS if v in args.variants]
    s = lean_setup.setup(args)
    params = s.params
    eval_set = s.data.splits["eval"]
    results = {}
    for variant in variants:
        model = lean_setup.trained(variant, s)
        metrics = evaluate(KerasScorer(model), eval_set, params)
        results[variant] = {
            **metrics,
            "params": model.count_params(),
            "params_200_classes": params_with_classes(model, PAPER_CLASSES),
            "trainable": int(sum(w.numpy().size for w in model.trainable_weights)),
        }
        print(f"   {variant}: mAP {metrics['mAP']:.4f} mAUC {metrics['mAUC']:.4f} d' {metrics['dprime']:.3f}", flush=True)

    rows = []
    for v in variants:
        r, p = results[v], PAPER[v]
        rows.append(
            [
                p["label"],
                f"{r['mAP']:.4f}",
                f"{p['mAP']}",
                f"{r['mAUC']:.4f}",
                f"{p['mAUC']}",
                f"{r['dprime']:.3f}",
                f"{p['dprime']}",
                f"{r['params']:,}",
                f"{r['params_200_classes']:,}",
                p["params"],
            ]
        )
    headers = ["model", "mAP", "paper", "mAUC", "paper", "d'", "paper", "params (ours)", f"params ({PAPER_CLASSES} cl.)", "paper"]
    table3 = markdown_table(headers, rows)

    rows2 = []
    counts = {}
    for (base, ref), paper in PAPER_TABLE2.items():
        if not {base, ref} <= set(results):
            continue
        c = classes_improved(results[base]["per_class_ap"], results[ref]["per_class_ap"])
        counts[f"{base}->{ref}"] = c
        ours = [c["overall"], c["by 5%"], c["by 10%"], c["by 20%"]]
        rows2.append(
            [PAPER[base]["label"], PAPER[ref]["label"], f"{c['classes']}"]
            + [f"{o} (paper {q})" for o, q in zip(ours, paper, strict=True)]
        )
    table2 = markdown_table(["baseline B", "reference R", "classes", "improved", "by 5 %", "by 10 %", "by 20 %"], rows2)
    notes = s.notes + [
        PARAMS_NOTE,
        "Table II margins are relative (AP_R > AP_B x 1.05 ...); the paper counts out of 200 classes.",
        f"{len(eval_set)} eval clips, {results[variants[-1]]['classes_scored']} classes scored; wall time {time.time() - started:.0f} s.",
    ]
    text = (
        "## Table III: ablation (eval split, 1 s chunks, 50 % overlap)\n\n" + table3
        + "\n\n## Table II: classes improved (per-class AP)\n\n" + table2 + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    )
    print("\n" + text)
    args.out.mkdir(parents=True, exist_ok=True)
    bar_chart(
        args.out / "map.png",
        variants,
        [results[v]["mAP"] for v in variants],
        [PAPER[v]["mAP"] for v in variants],
        "mAP",
        "Table III: mAP per model (ours on " + ("the given data" if args.data else "the generated corpus") + ")",
    )
    harness.write_results(
        args.out,
        text,
        {
            "data": str(s.data.root),
            "yamnet": s.backbone,
            "budget": s.budget.__dict__,
            "params": params.__dict__,
            "labels": s.data.vocabulary,
            "results": results,
            "table2": counts,
            "paper": {"table3": PAPER, "table2": {f"{b}->{r}": v for (b, r), v in PAPER_TABLE2.items()}},
            "notes": notes,
        },
        quick=args.quick,
    )
    return 0


def main(argv=None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
