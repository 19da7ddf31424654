"""Does LEAN's input pipeline keep a trainer fed? 1 s patches per second from the store and from shards.

On a generated store of about `--hours` of 16 kHz audio (FSD50K-like clips of 0.3 to 30 s, noise
written straight into a `audioprep.pcm_store` folder under a temporary directory, never committed):

- (a) the patch index over the memory-mapped store (`lean.data.patch_dataset`: shuffled index,
  parallel `read_patches`, prefetch), on every core of this machine;
- (b) the TFRecord shards `lean prepare` writes (`lean.shards.ShardBatches`: interleaved files,
  parallel decode, windowed shuffle, prefetch), on every core, after writing them (timed too);
- (c) the patches per second LEAN's training step consumes on this CPU (batch 64, after warm-up).

Then what an accelerator would need, from the model's measured FLOPs per patch and an assumed
sustained GPU throughput (printed with its source), how many cores the TFRecord pipeline would need to
feed it, the goals (loader >= 10x the CPU step and >= 5,000 patches/s) and
`ratio: <TFRecord / patch-index patches per second>`. Writes results/benchmarks/loader.json (under the
git-ignored results/quick/ with other flags).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import keras
import numpy as np
import tensorflow as tf
from record import at_least, load_average, not_the_default, verdict, write_results

from audioprep.pcm_store import INDEX, SAMPLES, PcmClips
from audioprep.tiles import cores
from lean.data import ClipSet, LeanData, patch_dataset
from lean.model import build_model
from lean.params import LeanParams
from lean.shards import ShardBatches, ShardParams, write_shards
from lean.train import compile_model
from lean.yamnet import yamnet_embedder
from lean.yamnet_weights import STANDIN

CLASSES = 200  # FSD50K's vocabulary size
GOAL_OVER_STEP, GOAL_PATCHES = 10.0, 5000.0
# The assumed accelerator: NVIDIA A100's dense FP16 tensor peak is 312 TFLOPS (NVIDIA A100 datasheet);
# a MobileNet-style network with depthwise convolutions sustains a small part of it; 10 % is assumed.
GPU_NAME, GPU_PEAK_FLOPS, GPU_SUSTAINED = "NVIDIA A100 (312 TFLOPS FP16 peak, datasheet)", 312e12, 0.10
# The paper's own rate: LEAN trained at about 1.5 h per epoch over FSD50K's ~108 h (issue 16, citing Choudhary et al.).
PAPER_PATCHES_PER_S = 108 * 3600 / (1.5 * 3600)


def generate_store(folder: Path, hours: float, params: LeanParams, seed: int = 0) -> tuple[PcmClips, np.ndarray]:
    """A store of noise clips totalling `hours`, written block by block, and their multi-hot labels."""
    rng = np.random.default_rng(seed)
    total = int(hours * 3600 * params.sample_rate)
    offsets = [0]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / SAMPLES, "wb") as out:
        while offsets[-1] < total:
            length = min(int(rng.uniform(0.3, 30.0) * params.sample_rate), total - offsets[-1])
            out.write(rng.integers(-3000, 3000, length, dtype=np.int16).tobytes())
            offsets.append(offsets[-1] + length)
    clips = len(offsets) - 1
    (folder / INDEX).write_text(json.dumps({"offsets": offsets, "kept": list(range(clips)), "bad": []}))
    labels = np.zeros((clips, CLASSES), np.float32)
    for row in labels:
        row[rng.choice(CLASSES, rng.integers(1, 4), replace=False)] = 1.0
    return PcmClips(folder), labels


def patches_per_second(batches, seconds: float) -> float:
    """Patches delivered per second over about `seconds` (after one warm-up batch)."""
    iterator = iter(batches)
    next(iterator)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        try:
            count += len(next(iterator)[0])
        except StopIteration:
            break
    return count / (time.perf_counter() - start)


def training_step_rate(params: LeanParams, steps: int) -> tuple[float, float]:
    """(patches/s of LEAN's train_on_batch on this CPU, forward FLOPs per patch from the traced graph)."""
    keras.utils.set_random_seed(0)
    model = compile_model(build_model("lean", CLASSES, params, embedder=yamnet_embedder(STANDIN, params)), params)
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.1, 0.1, (params.batch_size, params.patch_samples)).astype(np.float32)
    y = (rng.random((params.batch_size, CLASSES)) < 0.01).astype(np.float32)
    model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    rate = steps * params.batch_size / (time.perf_counter() - start)
    return rate, forward_flops(model, params)


def forward_flops(model: keras.Model, params: LeanParams) -> float:
    """Floating-point operations of one patch through the model, counted by TensorFlow's profiler."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, params.patch_samples], tf.float32))
    frozen = convert_variables_to_constants_v2(graph).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(frozen, options=options).total_float_ops)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=10.0, help="audio in the generated store")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each loader is timed")
    parser.add_argument("--steps", type=int, default=5, help="LEAN training steps timed")
    parser.add_argument("--shard-mb", type=float, default=64.0)
    args = parser.parse_args(argv)
    params = LeanParams()
    load_start = load_average()
    print(f"machine: {cores()} cores, load average {', '.join(map(str, load_start))} at start (1, 5, 15 min; "
          "other jobs included)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        store, labels = generate_store(Path(tmp) / "store", args.hours, params)
        audio_h = store.lengths.sum() / params.sample_rate / 3600
        clip_count = len(store)
        print(f"store: {clip_count} clips, {audio_h:.1f} h, {store.offsets[-1] * 2 / 2**30:.2f} GiB, "
              f"generated in {time.perf_counter() - start:.0f} s")
        clips = ClipSet(store, labels, [Path(f"clip{i}.wav") for i in range(len(store))])
        start = time.perf_counter()
        manifest = write_shards(LeanData({"train": clips}, [f"c{i}" for i in range(CLASSES)], "generated", Path(tmp)),
                                Path(tmp) / "shards", params, ShardParams(args.shard_mb), progress=False)
        entries = manifest["splits"]["train"]
        print(f"shards: {len(entries)} files of ~{args.shard_mb:g} MB, {sum(e['patches'] for e in entries)} patches, "
              f"written in {time.perf_counter() - start:.0f} s")
        index = patches_per_second(patch_dataset(clips, params, shuffle=True), args.seconds)
        shards = patches_per_second(ShardBatches(Path(tmp) / "shards", "train", params).dataset(0), args.seconds)
    step, flops = training_step_rate(params, args.steps)
    sustained = GPU_PEAK_FLOPS * GPU_SUSTAINED
    gpu = sustained / (3 * flops)  # a training step costs about three forward passes
    print(f"(a) patch index over the store ({cores()} cores):  {index:10,.0f} patches/s")
    print(f"(b) TFRecord shards ({cores()} cores):              {shards:10,.0f} patches/s")
    print(f"(c) LEAN training step on this CPU (batch 64): {step:10,.1f} patches/s")
    print(f"LEAN forward pass: {flops / 1e6:,.0f} MFLOP per 1 s patch (TensorFlow profiler); training ~3x that")
    print(f"accelerator: {GPU_NAME} at an assumed {GPU_SUSTAINED:.0%} sustained = {sustained / 1e12:.0f} TFLOPS "
          f"-> about {gpu:,.0f} patches/s; the paper's GPU ran ~{PAPER_PATCHES_PER_S:.0f} patches/s "
          f"(1.5 h per FSD50K epoch)")
    per_core = shards / cores()
    print(f"cores to feed that accelerator with TFRecord shards: about {int(np.ceil(gpu / per_core))} "
          f"({per_core:,.0f} patches/s per core here)")
    best = max(index, shards)
    goals = {"loader / CPU step": at_least(GOAL_OVER_STEP, best / step, "x the CPU step"),
             "loader": at_least(GOAL_PATCHES, best, " patches/s")}
    print(f"goal: loader >= {GOAL_OVER_STEP:g}x the CPU step: {best / step:,.0f}x "
          f"({verdict(goals['loader / CPU step']['met'])})")
    print(f"goal: loader >= {GOAL_PATCHES:,.0f} patches/s: TFRecord {shards:,.0f}, index {index:,.0f} "
          f"({verdict(goals['loader']['met'])})")
    write_results("loader", {
        "data": f"a generated store of 16 kHz noise: {clip_count} clips of 0.3-30 s, {audio_h:.1f} h, "
                f"{CLASSES} classes of random multi-hot labels",
        "weights": "LEAN untrained (seed 0) on the native YAMNet network with no weights loaded: only the "
                   "training step's speed is timed",
        "patches_per_s": {"patch index": round(index, 1), "TFRecord shards": round(shards, 1),
                          "CPU training step": round(step, 1)},
        "forward_mflop_per_patch": round(flops / 1e6, 1), "goals": goals, "ratio": round(shards / index, 2)},
        not_the_default(parser, args), load_start)
    print(f"ratio: {shards / index:.2f}")

if __name__ == "__main__":
    main()
