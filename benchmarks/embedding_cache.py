"""The embedding cache: a YAMNet linear probe on 2,000 clips, first pass against a second pass on the cache.

`python -m asmr_classify train --model yamnet --data DIR` (the YAMNet transfer family: Google's bundled
YAMNet embeds every 0.975 s window, a softmax head is fitted by L-BFGS) runs twice as a child process on
the same generated folder, each timed from its start to its exit. Baseline: the first run, with an empty
cache, computes every clip's embeddings from its audio and then trains the head. Ours: the second run, a
fresh process, reads each clip's embeddings from the content-keyed cache (asmr_classify.embeddings,
`<data root>/cache/yamnet/`) and trains the same head. The data root is a temporary folder, so the
baseline starts from an empty cache whatever ran before. Goal (the real-YAMNet issue): the probe on
2,000 clips takes seconds after the first pass.

Data: `--clips` (default 2,000) 16 kHz mono clips of 1-5 s in four label folders (tones, noise bursts,
chirps, clicks), generated with a fixed seed in a temporary folder and deleted afterwards. Each run's
params.json must show every clip put through YAMNet by the first run and none by the second, and both
runs the same test accuracy (the same embeddings give the same head), or the benchmark fails. Writes
results/benchmarks/embedding_cache.json (under the git-ignored results/quick/ with another --clips).
Last line: `ratio: <baseline wall / ours wall>`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import numpy as np
import soundfile as sf
from long_audio import spawn
from record import announced_load, verdict, write_results

from audioprep.paths import DATA_ENV

CLIPS = 2000
SR = 16000
SECONDS = (1.0, 5.0)
LABELS = ("tone", "noise", "chirp", "clicks")
GOAL_SECONDS = 10.0  # "seconds": the second pass, TensorFlow's import and YAMNet's build included


def clip(label: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """One generated clip of `label`, float32 mono at SR."""
    t = np.arange(int(seconds * SR)) / SR
    if label == "tone":
        x = np.sin(2 * np.pi * rng.uniform(200, 2000) * t)
    elif label == "noise":
        x = rng.standard_normal(len(t)) * (np.sin(2 * np.pi * rng.uniform(0.5, 3) * t) > 0)
    elif label == "chirp":
        f0, f1 = rng.uniform(200, 800), rng.uniform(2000, 6000)
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds)))
    else:
        x = np.zeros(len(t))
        x[:: int(SR / rng.uniform(4, 20))] = 1.0
    x = x + 0.02 * rng.standard_normal(len(t))
    return (rng.uniform(0.1, 0.5) * x / np.max(np.abs(x))).astype(np.float32)


def write_clips(folder: Path, count: int, seed: int = 0) -> float:
    """`count` clips, spread evenly over LABELS as `<label>/<label>_<i>.wav`; returns their total seconds."""
    rng = np.random.default_rng(seed)
    total = 0.0
    for i in range(count):
        label = LABELS[i % len(LABELS)]
        seconds = float(rng.uniform(*SECONDS))
        (folder / label).mkdir(parents=True, exist_ok=True)
        sf.write(folder / label / f"{label}_{i:05d}.wav", clip(label, seconds, rng), SR, subtype="PCM_16")
        total += seconds
    return total


def train(data: Path, out: Path, log: Path) -> tuple[dict, dict]:
    """One `train --model yamnet` child: its wall, CPU and peak RSS, and its params.json and metrics.json."""
    code, wall, rss, cpu, text = spawn(["-m", "asmr_classify", "train", "--model", "yamnet", "--data", str(data),
                                        "--out", str(out)], log)
    if code != 0:
        raise SystemExit(f"train --model yamnet: exit {code}; its stderr ends:\n{text[-2000:]}")
    record = json.loads((out / "params.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "rss_mb": round(rss, 1),
            "embedded_files": record["embedded_files"], "test_accuracy": metrics["accuracy"],
            "head": record["head"]}, record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=CLIPS, help=f"generated clips (default {CLIPS})")
    args = parser.parse_args(argv)
    if args.clips < 2 * len(LABELS) * 3:
        parser.error(f"--clips {args.clips}: at least {2 * len(LABELS) * 3}, so every label has train, val and test clips")
    load_start = announced_load("start")
    with tempfile.TemporaryDirectory(prefix="embedding_cache_") as tmp:
        work = Path(tmp)
        seconds = write_clips(work / "clips", args.clips)
        data = f"{args.clips} generated 16 kHz mono clips of {SECONDS[0]:g}-{SECONDS[1]:g} s ({seconds / 60:.1f} min), " \
               f"{len(LABELS)} labels ({', '.join(LABELS)})"
        print(f"data: {data}", flush=True)
        os.environ[DATA_ENV] = str(work / "data_root")  # an empty cache for the baseline; the children inherit it
        baseline, _ = train(work / "clips", work / "first", work / "first.log")
        print(f"baseline (first pass: embeddings from audio, then the head): {baseline['wall_s']:.2f} s wall, "
              f"CPU {baseline['cpu_s']:.2f} s, RSS {baseline['rss_mb']:.0f} MB, {baseline['embedded_files']} files "
              "through YAMNet", flush=True)
        ours, record = train(work / "clips", work / "second", work / "second.log")
        print(f"ours (second pass: embeddings from the cache, then the head): {ours['wall_s']:.2f} s wall, "
              f"CPU {ours['cpu_s']:.2f} s, RSS {ours['rss_mb']:.0f} MB, {ours['embedded_files']} files through YAMNet")
    windows = sum(sum(v) for v in record["counts"].values())
    if baseline["embedded_files"] != args.clips or ours["embedded_files"] != 0:
        raise SystemExit(f"the cache did not work: {baseline['embedded_files']} then {ours['embedded_files']} files "
                         f"through YAMNet (expected {args.clips} then 0)")
    if baseline["test_accuracy"] != ours["test_accuracy"]:
        raise SystemExit(f"the two passes disagree: test accuracy {baseline['test_accuracy']} then {ours['test_accuracy']}")
    met = ours["wall_s"] <= GOAL_SECONDS
    distance = f"{abs(GOAL_SECONDS - ours['wall_s']):.2f} s {'under' if met else 'over'}"
    print(f"{windows} windows; head: {record['head']['solver']}, {record['head']['steps']} iterations; test accuracy "
          f"per window {100 * ours['test_accuracy']:.1f} % (both passes)")
    print(f"goal: the second pass <= {GOAL_SECONDS:g} s on 2 cores ({ours['wall_s']:.2f} s, {distance}): "
          f"{verdict(met)}")
    ratio = baseline["wall_s"] / ours["wall_s"]
    write_results("embedding_cache", {
        "data": data, "windows": windows, "weights": f"Google's YAMNet, {record['yamnet']['weights']} "
        f"(SHA-256 {record['yamnet']['sha256']}), frozen; softmax head fitted by L-BFGS",
        "command": "python -m asmr_classify train --model yamnet --data CLIPS --out RUN",
        "baseline": {"what": "first pass: every clip's embeddings computed from its audio, then the head", **baseline},
        "ours": {"what": "second pass: every clip's embeddings read from the content-keyed cache, then the head", **ours},
        "goals": {"second pass": {"goal": f"<= {GOAL_SECONDS:g} s", "value": ours["wall_s"], "met": met,
                                  "distance": distance}},
        "ratio": round(ratio, 2)}, quick=args.clips != CLIPS, load_start=load_start)
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    sys.exit(main())
