"""Training one Table III model: multi-label BCE on 1 s patches, batch 64, Adam 1e-4, best validation PR-AUC kept.

The run folder (audioprep.runs.RunDir) holds best.keras / last.keras / history.csv / params.json and
the labels file. The training patches come in a per-(seed, epoch) order, so a run killed at any
point and continued with `resume=True` ends where an uninterrupted one would (a kill mid-epoch
repeats that epoch from its start, with the same batches).
"""

from __future__ import annotations

from pathlib import Path

import keras

from audioprep.batches import ShuffledBatches
from audioprep.runs import BEST, RunDir, load_model
from lean.data import LeanData, patch_dataset, patch_index, read_patches
from lean.model import build_model
from lean.params import LeanParams
from lean.scoring import LABELS, write_labels
from lean.yamnet import yamnet_embedder

MONITOR = "val_pr_auc"


def compile_model(model: keras.Model, params: LeanParams) -> keras.Model:
    classes = int(model.outputs[0].shape[-1])
    model.compile(
        optimizer=keras.optimizers.Adam(params.learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(curve="PR", multi_label=True, num_labels=classes, name="pr_auc")],
    )
    return model


def run_dir(out, resume: bool = False) -> RunDir:
    """The run folder, checked (fresh vs --resume) before any expensive work starts."""
    return RunDir(out, resume=resume, monitor=MONITOR, mode="max")


def train_variant(
    variant: str,
    data: LeanData,
    run: RunDir,
    epochs: int,
    yamnet: str | Path | None,
    params: LeanParams = LeanParams(),
    max_patches_per_clip: int | None = None,
    verbose: int = 1,
) -> keras.Model:
    """Train `variant` on data's train split, validate on its val split, in `run`; return the best model.

    `yamnet` is YAMNet weights (`.h5`, official or the stand-in) or a hub handle / SavedModel folder.
    """
    keras.utils.set_random_seed(params.seed)
    model = build_model(variant, len(data.vocabulary), params, embedder=yamnet_embedder(yamnet, params))
    compile_model(model, params)
    run.write_params(
        params,
        variant=variant,
        yamnet=str(yamnet),
        data=str(data.root),
        classes=len(data.vocabulary),
        parameters=model.count_params(),
        max_patches_per_clip=max_patches_per_clip,
        bad_files=data.report,
    )
    write_labels(run.file(LABELS), data.vocabulary)
    clips = data.splits["train"]
    index = patch_index(clips, params, max_patches_per_clip)
    train = ShuffledBatches(len(index), params.batch_size, lambda rows: read_patches(clips, index[rows], params),
                            seed=params.seed)
    val = patch_dataset(data.splits["val"], params, max_patches_per_clip)
    run.fit(model, train, epochs, validation_data=val, verbose=verbose)
    return load_model(run.file(BEST))
