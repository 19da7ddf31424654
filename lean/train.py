"""Training one Table III model: 1 s patches, batch 64, Adam 1e-4, best validation PR-AUC kept.

Multi-label data (FSD50K) trains sigmoid scores with binary cross-entropy, as the paper does;
single-label folders train a softmax with categorical cross-entropy and also report accuracy.
`yamnet_frozen` trains as a linear probe on cached embeddings (lean.probe) unless augmentation
changes its inputs, a distribution strategy or mixed precision is asked for, or it reads `--shards`. The run
folder (asmr_training.run_dir.RunDir) holds best.keras / last.keras /
history.csv / params.json (the vocabulary as its `classes`); without a validation split the best epoch is
the one with the highest training PR-AUC. The training patches come in a per-(seed, epoch)
order (augmentation draws too), so a run killed at any point and continued with `--resume` ends
where an uninterrupted one would (a kill mid-epoch repeats that epoch from its start, with the same
batches).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from asmr_audioset.abstain import calibration
from asmr_training import distribute, loss_scale
from asmr_training.model_files import BEST, load_model
from asmr_training.run_spec import RunSpec, as_flag, check_fields, number_at_least
from asmr_training.start import RunResult, start_run
from audioprep.cli import fraction, int_at_least, positive_float
from audioprep.errors import UsageError
from audioprep.files import write_json
from lean.augment import batch_augmented, training_batches
from lean.data import LeanData, patch_dataset, patch_index, read_patches
from lean.model import build_model, is_multi_label
from lean.params import LeanParams
from lean.probe import train_probe, uses_probe
from lean.run_data import data_record
from lean.shards import ShardBatches
from lean.yamnet import yamnet_embedder

MONITOR = "val_pr_auc"
METRICS = "metrics.json"  # the held-out metrics, as asmr_classify's runs keep theirs


def compile_model(model: keras.Model, params: LeanParams) -> keras.Model:
    """Adam at params' rate; the loss follows the head (sigmoid: binary, softmax: categorical)."""
    classes = int(model.outputs[0].shape[-1])
    multi_label = is_multi_label(model)
    metrics = [keras.metrics.AUC(curve="PR", multi_label=True, num_labels=classes, name="pr_auc")]
    model.compile(
        optimizer=loss_scale.for_model(model, keras.optimizers.Adam(params.learning_rate)),
        loss="binary_crossentropy" if multi_label else "categorical_crossentropy",
        metrics=metrics if multi_label else [*metrics, keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    return model


def shard_batches(folder, data: LeanData, params: LeanParams, dist: distribute.Distribution) -> ShardBatches:
    """The training split from `lean prepare` shards instead of the store (each worker reads its own files)."""
    if batch_augmented(params):
        raise UsageError(f"--shards {folder}: batch augmentation reads the PCM store; drop --shards or the augmentation")
    workers, worker = dist.workers
    return ShardBatches(folder, "train", params, params.seed, workers, worker, vocabulary=data.vocabulary)


# The allowed values of the LeanParams fields `train` sets, each the argparse type of its flag too.
RULES = {
    "batch_size": int_at_least(1),
    "learning_rate": positive_float,
    "epochs": int_at_least(1),
    "seed": int_at_least(0),
    "max_patches_per_clip": int_at_least(1),
    "spec_time_masks": int_at_least(0),
    "spec_time_mask_frames": int_at_least(1),
    "spec_freq_masks": int_at_least(0),
    "spec_freq_mask_bands": int_at_least(1),
    "mixup_alpha": number_at_least(0.0),
    "gain_db": number_at_least(0.0),
    "time_shift": fraction,
}


def check_params(params: LeanParams) -> None:
    """The fields' ranges, and SpecAugment masks narrower than the 96 x 64 patch they mask."""
    check_fields(params, RULES, as_flag)
    front = params.front_end
    for field, value, size, what in (("spec_time_mask_frames", params.spec_time_mask_frames, front.patch_frames, "frames"),
                                     ("spec_freq_mask_bands", params.spec_freq_mask_bands, front.mel_bands, "mel bands")):
        if value >= size:
            raise UsageError(f"{as_flag(field, value)}: a patch has {size} {what}; a mask must be narrower")


def held_out_split(data: LeanData) -> str:
    """What the held-out split is called: FSD50K's eval split, a labelled folder's test split."""
    return "eval" if data.multi_label else "test"


def held_out_metrics(model: keras.Model, data: LeanData, params: LeanParams) -> dict:
    """The model's chunked evaluation (lean.evaluate) on data's held-out split: mAP, mAUC, d-prime, per-class
    AP, and for single-label data accuracy and macro-F1; `error` says why a metric is undefined."""
    from lean.evaluate import evaluate
    from lean.scoring import KerasScorer

    clips = data.splits["eval"]
    result = {"split": held_out_split(data), "clips": len(clips)}
    if len(clips):
        try:
            result.update(evaluate(KerasScorer(model, data.vocabulary), clips, params))
        except ValueError as err:  # no class with both positive and negative clips
            result["error"] = str(err)
    return result


def format_held_out(metrics: dict) -> str:
    """The held-out line `train` ends with, worded as `asmr_classify train`'s test report."""
    split, clips = metrics["split"], metrics["clips"]
    if not clips:
        return f"{split} split empty: no held-out metrics"
    if "error" in metrics:
        return f"{split} metrics undefined on {clips} clips: {metrics['error']}"
    how = f"{clips} clips, 1 s chunk scores averaged per clip"
    if "accuracy" in metrics:
        return f"{split} accuracy: {metrics['accuracy']:.4f}   macro-F1: {metrics['macro_f1']:.4f}   ({how})"
    return (f"{split} mAP: {metrics['mAP']:.4f}   mAUC: {metrics['mAUC']:.4f}   d-prime: {metrics['dprime']:.3f}   "
            f"({how}, {metrics['classes_scored']} classes scored)")


def train_variant(spec: RunSpec, params: LeanParams, variant: str, data: LeanData, yamnet, *,
                  shards: Path | None = None, verbose: int | str = "auto", described: dict | None = None,
                  held_out: bool = False) -> RunResult:
    """Train `variant` on data's train split, validate on its val split, as `spec` says; the result's model is
    the best checkpoint.

    `yamnet` is a `--yamnet` value: `.tflite` or `.h5` weights, a hub handle / SavedModel folder or `standin`.
    `shards`: `lean prepare` shards of the training split, read by file on each worker. `described`: more
    for params.json (how the data was read and split: lean.run_data.split_record). `held_out`: also evaluate the best
    model on data's eval split (`held_out_metrics`), written to the run's metrics.json and returned as the
    result's metrics.
    """
    settings = {"variant": variant, "yamnet": str(yamnet), "protocol": data.protocol}
    with start_run(spec, params, monitor=MONITOR, mode="max", settings=settings, check=check_params) as run:
        params, dist, metrics = run.params, run.dist, {}

        def make() -> keras.Model:
            embedder = yamnet_embedder(yamnet, params, spec_augment=True)
            model = build_model(variant, len(data.vocabulary), params, embedder=embedder, multi_label=data.multi_label)
            return compile_model(model, params)

        model = dist.build(make)
        # The probe trains the head outside any strategy, in float32, on embeddings of the decoded store: one
        # process, the default policy, no shards.
        probe = uses_probe(variant, params) and dist.params == distribute.DistributeParams() and shards is None
        run.describe(data.vocabulary, **data_record(data.root), **(described or {}), multi_label=data.multi_label,
                     clips={name: len(clips) for name, clips in data.splits.items()},
                     linear_probe_on_cached_embeddings=probe, parameters=model.count_params(), bad_files=data.report)
        if not len(data.splits["val"]):  # ESC-50's protocol trains on four folds, validates on none
            run.dir.monitor = MONITOR.removeprefix("val_")
        if probe:
            train_probe(model, data, run.dir, yamnet, params, verbose)
        else:
            train = shard_batches(shards, data, params, dist) if shards else None
            if train is None:
                clips = data.splits["train"]
                index = patch_index(clips, params)
                train = training_batches(len(index), lambda rows: read_patches(clips, index[rows], params), params)
            val = patch_dataset(data.splits["val"], params) if len(data.splits["val"]) else None
            model = dist.fit(run.dir, model, train, params.epochs, validation_data=val, verbose=verbose)
        if dist.chief:
            with dist.policy():  # outside the strategy: only the chief loads it
                model = load_model(run.dir.file(BEST))
            if len(data.splits["val"]):  # "none of these": the threshold `lean tag` abstains under
                val = patch_dataset(data.splits["val"], params)
                labels = np.concatenate([y for _, y in val.as_numpy_iterator()])
                run.record_outputs(**calibration(model.predict(val, verbose=0), labels))
            if held_out:
                metrics = held_out_metrics(model, data, params)
                write_json(run.path / METRICS, metrics)
        return run.result(model, metrics, data=data)
