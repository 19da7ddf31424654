"""Training one Table III model: 1 s patches, batch 64, Adam 1e-4, best validation PR-AUC kept.

Multi-label data (FSD50K) trains sigmoid scores with binary cross-entropy, as the paper does;
single-label folders train a softmax with categorical cross-entropy and also report accuracy.
`yamnet_frozen` trains as a linear probe on cached embeddings (lean.probe) unless augmentation
changes its inputs, a distribution strategy or mixed precision is asked for, or it reads `--shards`. The run
folder (asmr_training.run_dir.RunDir) holds best.keras / last.keras /
history.csv / params.json and the labels file; without a validation split the best epoch is the one
with the highest training PR-AUC. The training patches come in a per-(seed, epoch)
order (augmentation draws too), so a run killed at any point and continued with `resume=True` ends
where an uninterrupted one would (a kill mid-epoch repeats that epoch from its start, with the same
batches).
"""

from __future__ import annotations

from pathlib import Path

import keras

from asmr_training import distribute, loss_scale
from asmr_training.model_files import BEST, load_model
from asmr_training.run_dir import RunDir
from audioprep.errors import UsageError
from lean.augment import batch_augmented, training_batches
from lean.data import LeanData, patch_dataset, patch_index, read_patches
from lean.model import build_model, is_multi_label
from lean.params import LeanParams
from lean.probe import train_probe, uses_probe
from lean.scoring import LABELS, write_labels
from lean.shards import ShardBatches
from lean.yamnet import yamnet_embedder

MONITOR = "val_pr_auc"


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


def run_dir(out, resume: bool = False, chief: bool = True) -> RunDir:
    """The run folder, checked (fresh vs --resume) before any expensive work starts."""
    return RunDir(out, resume=resume, monitor=MONITOR, mode="max", chief=chief)


def train_variant(
    variant: str,
    data: LeanData,
    run: RunDir,
    epochs: int,
    yamnet: str | Path | None,
    params: LeanParams = LeanParams(),
    max_patches_per_clip: int | None = None,
    verbose: int = 1,
    distribution: distribute.Distribution | None = None,
    shards: Path | None = None,
) -> keras.Model:
    """Train `variant` on data's train split, validate on its val split, in `run`; return the best model.

    `yamnet` is YAMNet weights (`.h5`, official or the stand-in) or a hub handle / SavedModel folder.
    """
    dist = distribution or distribute.Distribution()
    dist.check_batch(params.batch_size)
    keras.utils.set_random_seed(params.seed)

    def make() -> keras.Model:
        embedder = yamnet_embedder(yamnet, params, spec_augment=True)
        model = build_model(variant, len(data.vocabulary), params, embedder=embedder, multi_label=data.multi_label)
        return compile_model(model, params)

    model = dist.build(make)
    # The probe trains the head outside any strategy, in float32, on embeddings of the decoded store: one
    # process, the default policy, no shards.
    probe = uses_probe(variant, params) and dist.params == distribute.DistributeParams() and shards is None
    run.write_params(
        params,
        variant=variant,
        yamnet=str(yamnet),
        data=str(data.root),
        protocol=data.protocol,
        multi_label=data.multi_label,
        linear_probe_on_cached_embeddings=probe,
        classes=len(data.vocabulary),
        parameters=model.count_params(),
        max_patches_per_clip=max_patches_per_clip,
        bad_files=data.report,
        distribute=dist.describe(params.batch_size),
    )
    write_labels(run.file(LABELS), data.vocabulary)
    if not len(data.splits["val"]):  # ESC-50's protocol trains on four folds, validates on none
        run.monitor = MONITOR.removeprefix("val_")
    if probe:
        train_probe(model, data, run, epochs, yamnet, params, max_patches_per_clip, verbose)
    else:
        train = shard_batches(shards, data, params, dist) if shards else None
        if train is None:
            clips = data.splits["train"]
            index = patch_index(clips, params, max_patches_per_clip)
            train = training_batches(len(index), lambda rows: read_patches(clips, index[rows], params), params)
        val = patch_dataset(data.splits["val"], params, max_patches_per_clip) if len(data.splits["val"]) else None
        model = dist.fit(run, model, train, epochs, validation_data=val, verbose=verbose)
    if not dist.chief:
        return model
    with dist.policy():  # outside the strategy: only the chief loads it
        return load_model(run.file(BEST))
