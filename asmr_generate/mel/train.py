"""Training of the AE / VAE (Keras fit with a custom step) and the cGAN (custom loop) in a run folder.

Both paths write `best.keras`, `last.keras`, `history.csv`, `params.json`, and a sample grid
`samples/epoch_XXX.png` every `grid_every` epochs (fixed validation inputs and their
reconstructions, or one row of samples per label), and both resume exactly from the run's checkpoint
(asmr_training.run_dir): batches come in a per-(seed, epoch) order.

Both train under every strategy of asmr_training.distribute and with mixed precision: the AE / VAE through
`Distribution.fit`, the cGAN's loop through `strategy.run` over the replicas' parts of each global batch.
Only the chief writes the run folder and the grids.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from asmr_generate.mel.models import KLWarmup, MelCGAN, build, mel_range
from asmr_generate.mel.params import GenerateParams, VAEParams
from asmr_generate.mel.plots import save_mel_grid
from asmr_training import distribute
from asmr_training.batches import ShuffledBatches
from asmr_training.run_spec import RunSpec, as_flag, check_fields, number_at_least
from asmr_training.start import Run, RunResult, start_run
from audioprep.errors import UsageError
from audioprep.slices import SliceSet

GRID_INPUTS = 6
RECIPE = 3  # part of cached_run's key: bump when the training order or the run folder's format changes


def _dataset(x: np.ndarray, batch: int) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(x.astype(np.float32)).batch(batch)


def _grid_inputs(val: SliceSet) -> np.ndarray:
    """One validation slice per class (then more, evenly), so the grid shows the variety of the corpus."""
    picks = [int(np.flatnonzero(val.y == c)[0]) for c in np.unique(val.y)]
    return val.x[picks[:GRID_INPUTS]]


class ReconstructionGrid(keras.callbacks.Callback):
    """Every `every` epochs: fixed inputs (top row) beside their reconstructions (bottom row)."""

    def __init__(self, folder: Path, inputs: np.ndarray, every: int):
        super().__init__()
        self.folder, self.inputs, self.every = folder, inputs, max(1, every)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        recon = np.asarray(self.model(self.inputs))
        mels = {f"input {i}": m for i, m in enumerate(self.inputs)}
        mels.update({f"output {i}": m for i, m in enumerate(recon)})
        save_mel_grid(self.folder / f"epoch_{epoch + 1:03d}.png", mels, columns=len(self.inputs),
                      title=f"epoch {epoch + 1}: inputs (top) and reconstructions (bottom)")


def _train_autoencoder(run: Run, name: str, sets: dict[str, SliceSet], verbose: int) -> keras.Model:
    """Train "ae" or "vae" in the started run; returns the final model (best.keras is kept beside it)."""
    params, dist, seed = run.params, run.dist, run.spec.seed
    train, val = sets["train"], sets["val"]
    low, high = mel_range(train.x)
    frames, n_mels = train.x.shape[1:]
    model = dist.build(lambda: build(name, params, frames, n_mels, low, high, seed=seed))
    run.describe(train.classes, mel_low=low, mel_high=high, train_slices=len(train), val_slices=len(val))
    callbacks = [ReconstructionGrid(run.path / "samples", _grid_inputs(val), params.grid_every)] if dist.chief else []
    if isinstance(params, VAEParams):
        callbacks.append(KLWarmup(params.beta, params.kl_warmup_epochs))
    x = train.x.astype(np.float32)
    batches = ShuffledBatches(len(x), params.batch_size, lambda i: x[i], seed=seed)
    return dist.fit(run.dir, model, batches, params.epochs, validation_data=_dataset(val.x, params.batch_size),
                    callbacks=callbacks, verbose=verbose)


def _spectrum_gap(model: MelCGAN, val: SliceSet, per_class: int, seed: int) -> float:
    """Mean |generated - real| of each class's average log-mel spectrum (a cheap, label-aware quality proxy)."""
    gaps = []
    for c in np.unique(val.y):
        fake = model.generate(model.label_vectors([int(c)] * per_class), seed=seed)
        gaps.append(np.mean(np.abs(fake.mean(axis=(0, 1)) - val.x[val.y == c].mean(axis=(0, 1)))))
    return float(np.mean(gaps))


def _label_grid(model: MelCGAN, path: Path, epoch: int, per_label: int = 4) -> None:
    mels = {}
    for c, label in enumerate(model.classes):
        for i, m in enumerate(model.generate(model.label_vectors([c] * per_label), seed=0)):
            mels[f"{label} {i}"] = m
    save_mel_grid(path, mels, columns=per_label, title=f"epoch {epoch}: one row per label (fixed noise)")


def _train_cgan(run: Run, sets: dict[str, SliceSet], verbose: int) -> MelCGAN:
    """Custom loop: one D and one G step per batch; best.keras = lowest validation spectrum gap."""
    params, dist, seed = run.params, run.dist, run.spec.seed
    train, val = sets["train"], sets["val"]
    if run.dir.initial_epoch:
        with dist.scope():  # the policy too: a mixed model's loss-scale optimizers come back whole
            model = run.dir.restore()
    else:
        low, high = mel_range(train.x)
        model = dist.build(lambda: build("cgan", params, *train.x.shape[1:], low, high, classes=train.classes,
                                         seed=seed))
        run.describe(train.classes, mel_low=low, mel_high=high, train_slices=len(train), val_slices=len(val))
    model.sync_batch_norm(dist.replicas)
    step = distribute.replica_step(dist.strategy, lambda batch: model.train_batch(*batch))
    x, y = train.x.astype(np.float32), train.y.astype(np.int32)
    batch_size, replicas = params.batch_size, dist.replicas
    steps = len(x) // batch_size + int(len(x) % batch_size >= replicas)  # a last batch under R rows is dropped
    for epoch in range(run.dir.initial_epoch, params.epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(x))
        bar = keras.utils.Progbar(steps, verbose=1 if verbose == 1 else 0)
        sums = np.zeros(4)
        for index in range(steps):
            rows = order[index * batch_size : (index + 1) * batch_size]
            batch = distribute.replica_rows(dist.strategy, rows, lambda part: (x[part], y[part]))
            values = np.array([float(v) for v in step(batch)])
            sums += values
            bar.update(index + 1, list(zip(("d_loss", "g_loss"), values[:2], strict=True)))
        logs = dict(zip(("d_loss", "g_loss", "d_real", "d_fake"), sums / steps, strict=True))
        logs["val_spectrum_gap"] = _spectrum_gap(model, val, per_class=16, seed=seed)
        run.dir.end_epoch(epoch, logs, model)
        if verbose:
            print(f"epoch {epoch + 1}/{params.epochs} " + " ".join(f"{k} {v:.4f}" for k, v in logs.items()), flush=True)
        if dist.chief and (epoch + 1) % max(1, params.grid_every) == 0:
            _label_grid(model, run.path / "samples" / f"epoch_{epoch + 1:03d}.png", epoch + 1)
    return model


MONITORS = {"ae": "val_loss", "vae": "val_elbo", "cgan": "val_spectrum_gap"}


def train(name: str, spec: RunSpec, params, sets: dict[str, SliceSet] | None = None, verbose: int = 2) -> RunResult:
    """Train "ae", "vae" or "cgan" with `params` as `spec` says; `sets` None: read `spec.data`'s slices (split by
    the seed, `spec.max_per_file` per recording) once the run has started."""
    if name not in MONITORS:
        raise UsageError(f"model must be one of {', '.join(MONITORS)}, not {name!r}")
    with start_run(spec, params, monitor=MONITORS[name], settings={"model": name}, check=check_params) as run:
        if sets is None:
            sets = load_slice_sets(run.spec.data, run.spec.max_per_file, seed=run.spec.seed)
            if len(sets["train"]) == 0 or len(sets["val"]) == 0:
                raise UsageError(f"--data {run.spec.data}: no usable slices in the train/val splits")
            if verbose:
                print(f"{name}: {len(sets['train'])} train / {len(sets['val'])} val slices, "
                      f"classes: {', '.join(sets['train'].classes)}", flush=True)
        model = _train_cgan(run, sets, verbose) if name == "cgan" else _train_autoencoder(run, name, sets, verbose)
        return run.result(model, data=sets)


def _rules(params) -> dict:
    """Each params field's allowed values (the argparse type of its flag)."""
    from audioprep.cli import fraction, int_at_least, positive_float

    rules = {name: int_at_least(1) for name in ("filters", "kernel_size", "latent_dim", "batch_size", "epochs",
                                                "grid_every", "noise_dim", "embedding_dim")}
    rules.update(decoder_depth=int_at_least(2), kl_warmup_epochs=int_at_least(0), learning_rate=positive_float,
                 recon_weight=positive_float, beta=number_at_least(0.0), free_bits=number_at_least(0.0),
                 vary_noise=number_at_least(0.0), leaky_slope=fraction, beta_1=fraction)
    return {name: rule for name, rule in rules.items() if hasattr(params, name)}


def check_params(params) -> None:
    check_fields(params, _rules(params), as_flag)


def with_overrides(params, **overrides):
    """`params` with the given non-None fields replaced (command-line overrides)."""
    return dataclasses.replace(params, **{k: v for k, v in overrides.items() if v is not None})


def load_slice_sets(data=None, max_slices_per_file: int | None = None, seed: int = 0) -> dict[str, SliceSet]:
    """The nine-label `deepasmr` layout (`--data`, else the generated corpus) as train/val/test log-mel slices."""
    from asmr_corpus.location import layout_dir
    from audioprep.slices import mel_slice_sets

    root = layout_dir("deepasmr", data)
    return mel_slice_sets(root, GenerateParams().mel, seed=seed, max_slices_per_file=max_slices_per_file)


def cached_run(name: str, params, sets: dict[str, SliceSet], folder, key: dict, seed: int = 0, verbose: int = 0):
    """Train into `folder/<name>-<hash of params and key>` or reuse (resume) the finished run there.

    The experiments share trained generators this way: table3 reuses table4's VAE when both run on
    the same data with the same settings, and an interrupted experiment continues where it stopped.
    """
    from asmr_training.model_files import load_model
    from asmr_training.run_dir import STATE
    from audioprep.cache import settings_key

    digest = settings_key({"recipe": RECIPE, "name": name, "params": dataclasses.asdict(params), "seed": seed, **key}, length=10)
    out = Path(folder) / f"{name}-{digest}"
    train(name, RunSpec(out, resume=(out / STATE).exists(), seed=seed), params, sets, verbose=verbose)
    return load_model(out), out
