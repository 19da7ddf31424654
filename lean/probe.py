"""The linear probe: `yamnet_frozen`'s head solved on YAMNet embeddings computed once per patch.

A frozen YAMNet maps each 1 s patch to the same 1024 numbers every epoch, so they are computed once
(batched, into a memory-mapped .npy under data/cache/lean/, written atomically and keyed by the
YAMNet weights, the split's files and the patching) and the head alone is trained on them, in
seconds instead of a YAMNet pass per batch. The head is the full model's own `classifier` layer
(built exactly as for the per-batch path), solved to convergence as a logistic regression by L-BFGS
(lean.logistic: seconds, where gradient steps at the paper's rate had not converged after 10 epochs) and
recorded through the run folder as its one epoch; once training ends, best.keras and last.keras are rewritten as the whole waveform model,
so evaluate, tag and export read them as usual. Augmentation that changes the waveform or its
log-mel (gain, shift, SpecAugment) makes embeddings differ per epoch, so it takes the per-batch path.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from asmr_training.model_files import BEST, LAST, load_model
from asmr_training.run_dir import RunDir
from audioprep import console
from audioprep.cache import settings_key
from audioprep.files import atomic_write
from audioprep.paths import data_root
from lean.augment import changes_waveforms
from lean.data import ClipSet, LeanData, patch_index, read_patches
from lean.logistic import fit_logistic
from lean.model import HEAD, is_multi_label
from lean.params import LeanParams
from lean.yamnet import EMBEDDING_SIZE
from lean.yamnet_weights import STANDIN, weights_source

CHUNK = 256  # patches embedded per YAMNet call


def uses_probe(variant: str, params: LeanParams) -> bool:
    return variant == "yamnet_frozen" and not changes_waveforms(params)


def embeddings_path(clips: ClipSet, yamnet, params: LeanParams) -> Path:
    """The cache file of one split's patch embeddings under one YAMNet (a weights file by its content; the
    stand-in's initial weights by the seed)."""
    source = weights_source(yamnet)
    weights = [Path(source.location)] if source.form in ("tflite", "h5") else []
    key = settings_key(
        [str(yamnet), params.seed if source.form == STANDIN else None, params.sample_rate, params.patch_seconds,
         params.max_patches_per_clip, [str(p) for p in clips.paths], clips.lengths().tolist()],
        [*weights, *clips.paths],
    )
    return data_root() / "cache" / "lean" / f"embeddings-{key}.npy"


def patch_embeddings(embedder: keras.Model, clips: ClipSet, index: np.ndarray, path: Path,
                     params: LeanParams, progress: bool = True) -> np.ndarray:
    """(len(index), 1024) float32 embeddings of the patches `index` names, read from `path` or computed into it."""
    if not path.exists():
        forward = tf.function(lambda x: embedder(x, training=False))

        def fill(tmp: Path) -> None:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(index), EMBEDDING_SIZE))
            for start in console.bar(range(0, len(index), CHUNK), desc="YAMNet embeddings", unit="chunk",
                              enabled=progress, leave=False):
                waves, _ = read_patches(clips, index[start : start + CHUNK], params)
                out[start : start + len(waves)] = forward(waves).numpy()
            out.flush()
            del out

        atomic_write(path, fill)
    return np.load(path, mmap_mode="r")


def _head_model(model: keras.Model) -> keras.Model:
    """A model over embeddings that shares `model`'s head layer (training it trains the model's head)."""
    embedding = keras.Input((EMBEDDING_SIZE,), name="embedding")
    return keras.Model(embedding, model.get_layer(HEAD)(embedding), name=f"{model.name}_probe")


def _split(model, data: LeanData, name: str, yamnet, params, progress):
    clips = data.splits[name]
    index = patch_index(clips, params)
    path = embeddings_path(clips, yamnet, params)
    embedder = model.get_layer("yamnet_embedding")
    return patch_embeddings(embedder, clips, index, path, params, progress), clips.labels[index[:, 0]]


def train_probe(model: keras.Model, data: LeanData, run: RunDir, yamnet, params: LeanParams, verbose: int = 1) -> None:
    """Train `model`'s head on cached embeddings in `run`, then write best/last as whole waveform models."""
    from lean.train import compile_model

    progress = verbose != 0
    train_x, train_y = _split(model, data, "train", yamnet, params, progress)
    val = None
    if len(data.splits["val"]):
        val_x, val_y = _split(model, data, "val", yamnet, params, progress)
        val = tf.data.Dataset.from_tensor_slices((np.asarray(val_x), val_y)).batch(params.batch_size)
    head = compile_model(_head_model(model), params)
    if run.initial_epoch == 0:  # one solve is the whole training: a resumed probe is already finished
        kernel, bias = fit_logistic(train_x, train_y, is_multi_label(model))
        head.get_layer(HEAD).set_weights([kernel, bias])
        logs = head.evaluate(np.asarray(train_x), train_y, batch_size=params.batch_size, verbose=0, return_dict=True)
        if val is not None:
            logs |= {f"val_{k}": v for k, v in head.evaluate(val, verbose=0, return_dict=True).items()}
        run.end_epoch(0, logs, head)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()), flush=True)
    for name in (BEST, LAST):
        if run.file(name).exists():
            model.get_layer(HEAD).set_weights(load_model(run.file(name), compile=False).get_layer(HEAD).get_weights())
            atomic_write(run.file(name), model.save)
