"""The mel generators (VAE, cGAN) under asmr_training.distribute: mirrored follows the default loss curves (and the
cGAN resumes under it); mixed precision trains, resumes and generates float32.

Two logical CPU devices must be configured before TensorFlow starts, so the mirrored runs happen in
tests/test_distribute.py's one mirrored subprocess (`mirrored_results`, checked by
`assert_mirrored_follows_default`). The data are test_distribute's tiny corpus: 24 train and 6 val
(16 frames, 8 bands) slices, 3 classes.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_distribute import tiny_corpus, weights_digest

NAMES = ("vae", "cgan")


def tiny_params(name: str, epochs: int):
    from asmr_generate.mel.params import CGANParams, VAEParams

    if name == "cgan":
        return CGANParams(filters=8, noise_dim=4, embedding_dim=2, batch_size=8, epochs=epochs, grid_every=100)
    return VAEParams(filters=4, latent_dim=4, batch_size=8, epochs=epochs, grid_every=100, kl_warmup_epochs=2)


def tiny_sets() -> dict:
    return tiny_corpus().splits


def history(folder: Path) -> list[dict]:
    return json.loads((folder / "state.json").read_text())["history"]


def sgd_weights(dist) -> list[float]:
    """A VAE's weights (sums) after one epoch of plain SGD: Adam would hide a wrong gradient scale (1/R)."""
    import keras

    from asmr_generate.mel.models import build, mel_range
    from asmr_training.run_dir import build_before_tracing

    keras.utils.set_random_seed(0)
    x = tiny_sets()["train"].x
    model = dist.build(lambda: build("vae", tiny_params("vae", 1), *x.shape[1:], *mel_range(x)))
    with dist.scope():
        model.compile(optimizer=keras.optimizers.SGD(1e-3))
        build_before_tracing(model, x)
        model.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return weights_digest(model)


def overflow_on_one_replica(dist) -> dict:
    """asmr_training.loss_scale's optimizer, whose gradients overflow on the second replica only, stepped once."""
    import keras
    import tensorflow as tf

    from asmr_training.loss_scale import ReplicaLossScaleOptimizer

    with dist.scope():
        weights = keras.Variable([1.0, 2.0])
        optimizer = ReplicaLossScaleOptimizer(keras.optimizers.SGD(0.1))
        optimizer.build([weights])
    scale = float(optimizer.dynamic_scale.numpy())

    def step():
        second = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, "float32")
        optimizer.apply_gradients([(tf.ones(2) / (1.0 - second), weights)])  # 1 on replica 0, inf on replica 1

    tf.function(lambda: dist.strategy.run(step))()
    return {"weights": weights.numpy().tolist(), "scale": float(optimizer.dynamic_scale.numpy()) / scale}


def mirrored_results(out: str, dist) -> dict:
    """Each model for two epochs on one device, then under `dist` (mirrored over two CPU devices; the cGAN, whose
    loop restores by itself, as one epoch and a resume to two); one SGD epoch of the VAE on each; a float16
    overflow on one replica. Runs in tests/test_distribute.py's mirrored subprocess (the devices are configured
    before TensorFlow starts, and one process holds one mirrored strategy: a second would reuse collective keys)."""
    from asmr_generate.mel.train import train
    from asmr_training.distribute import Distribution
    from asmr_training.run_spec import RunSpec

    result = {}
    for name in NAMES:
        default, mirrored = Path(out) / f"default-{name}", Path(out) / f"mirrored-{name}"
        train(name, RunSpec(default), tiny_params(name, 2), tiny_sets(), verbose=0)
        for part, epochs in enumerate((1, 2) if name == "cgan" else (2,)):
            train(name, RunSpec(mirrored, resume=part > 0, distribute=dist.params), tiny_params(name, epochs),
                  tiny_sets(), verbose=0)
        result[name] = {"default": history(default), "mirrored": history(mirrored),
                        "distribute": json.loads((mirrored / "params.json").read_text())["distribute"]}
    result["sgd"] = {"default": sgd_weights(Distribution()), "mirrored": sgd_weights(dist)}
    result["overflow"] = overflow_on_one_replica(dist)
    return result


def assert_mirrored_follows_default(result: dict) -> None:
    """What `mirrored_results` must show: the VAE's and cGAN's curves and the SGD weights as on one device, and an
    overflow on one replica skipping the step on both."""
    for name in NAMES:
        assert result[name]["distribute"] == {"strategy": "mirrored", "replicas": 2, "global_batch": 8,
                                              "per_replica_batch": 4, "mixed_precision": False}
        default, mirrored = result[name]["default"], result[name]["mirrored"]
        assert [row["epoch"] for row in mirrored] == [0, 1] and set(mirrored[0]) == set(default[0])
        for key in sorted(set(default[0]) - {"epoch"}):
            np.testing.assert_allclose([r[key] for r in mirrored], [r[key] for r in default], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} {key}")
    np.testing.assert_allclose(result["sgd"]["mirrored"], result["sgd"]["default"], rtol=1e-5)  # off by 86% without 1/R
    # the step is skipped on both replicas and the loss scale halves (Keras alone checks the first replica's)
    assert result["overflow"] == {"weights": [1.0, 2.0], "scale": 0.5}


@pytest.mark.parametrize("name", NAMES)
def test_mixed_precision_trains_resumes_and_generates_float32(name, tmp_path):
    import keras

    from asmr_generate.mel.train import train
    from asmr_training.distribute import DistributeParams
    from asmr_training.loss_scale import ReplicaLossScaleOptimizer
    from asmr_training.model_files import load_model
    from asmr_training.run_spec import RunSpec

    mixed = DistributeParams(mixed_precision=True)
    sets, out = tiny_sets(), tmp_path / name
    train(name, RunSpec(out, distribute=mixed), tiny_params(name, 1), sets, verbose=0)
    with warnings.catch_warnings(record=True) as caught:  # the loss-scale optimizers' state comes back whole
        warnings.simplefilter("always")
        train(name, RunSpec(out, resume=True, distribute=mixed), tiny_params(name, 2), sets, verbose=0)
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    assert keras.mixed_precision.global_policy().name == "float32"  # the policy does not leak
    rows = history(out)
    assert [row["epoch"] for row in rows] == [0, 1] and all(np.isfinite(list(row.values())).all() for row in rows)
    model = load_model(out)
    nets = (model.generator, model.discriminator) if name == "cgan" else (model.encoder, model.decoder)
    optimizers = (model.g_optimizer, model.d_optimizer) if name == "cgan" else (model.optimizer,)
    assert all(isinstance(o, ReplicaLossScaleOptimizer) for o in optimizers)  # after a load too
    for net in nets:  # float16 inside, float32 outputs
        assert "mixed_float16" in {layer.dtype_policy.name for layer in net.layers}
        assert {tensor._keras_history.operation.dtype_policy.name for tensor in net.outputs} == {"float32"}
    x = sets["val"].x
    made = model.sample("b", 3, seed=1) if name == "cgan" else model.vary(x[:2], 3, seed=1)
    assert made.dtype == np.float32 and np.isfinite(made).all()
    assert made.shape == ((3,) if name == "cgan" else (2, 3)) + x.shape[1:]

