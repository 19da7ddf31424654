"""Augmentation (lean.augment): each transform's bounds, draws that depend on (seed, epoch, batch) alone, and the
SpecAugment layer: masks only while training, filled with the patch mean, its generator saved for resume."""

from __future__ import annotations

import numpy as np
import pytest

from asmr_training.batches import ShuffledBatches
from asmr_training.run_dir import seed_states
from lean.augment import AugmentedBatches, SpecAugment, gain, mixup, time_shift, training_batches
from lean.params import LeanParams
from lean.yamnet import yamnet

X = np.random.default_rng(0).uniform(-0.5, 0.5, (6, 100)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]


def test_gain_scales_each_row_within_its_range():
    out = gain(X, 6.0, np.random.default_rng(1))
    ratio = out[:, 0] / X[:, 0]
    np.testing.assert_allclose(out, X * ratio[:, None], rtol=1e-5)
    assert np.all(np.abs(20 * np.log10(ratio)) <= 6.0 + 1e-4) and len(np.unique(ratio.round(6))) == 6


def test_time_shift_rolls_rows_without_losing_samples():
    out = time_shift(X, 0.1, np.random.default_rng(2))
    for row, shifted in zip(X, out, strict=True):
        shift = next(s for s in range(-10, 11) if np.array_equal(np.roll(row, s), shifted))
        assert abs(shift) <= 10


def test_mixup_mixes_inputs_and_labels_by_one_weight():
    """With one class per example, a mixed label row names the weight and the partner of its input."""
    x, y = mixup(X, np.eye(len(X), dtype=np.float32), 0.4, np.random.default_rng(3))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(x, y @ X, rtol=1e-5, atol=1e-6)
    assert (np.count_nonzero(y, axis=1) <= 2).all() and (y.diagonal() < 1).any()


def test_batches_draw_from_seed_epoch_and_index_alone():
    """What makes resume exact: a fresh loader set to epoch 3 yields what one that ran epochs 0-2 does."""
    params = LeanParams(batch_size=4, gain_db=6.0, time_shift=0.1, mixup_alpha=0.2, seed=5)
    load = lambda rows: (X[rows], Y[rows])  # noqa: E731
    ran, fresh = AugmentedBatches(len(X), load, params), AugmentedBatches(len(X), load, params)
    for epoch in range(3):
        ran.epoch = epoch
        _ = [ran[i] for i in range(len(ran))]
    ran.epoch = fresh.epoch = 3
    for i in range(len(ran)):
        for a, b in zip(ran[i], fresh[i], strict=True):
            np.testing.assert_array_equal(a, b)
    fresh.epoch = 4
    assert not np.array_equal(fresh[0][0], ran[0][0])
    plain = training_batches(len(X), load, LeanParams(batch_size=4))  # augmentation off: batches as before
    assert type(plain) is ShuffledBatches
    np.testing.assert_array_equal(plain[0][0], ShuffledBatches(len(X), 4, load)[0][0])


def test_spec_augment_masks_only_while_training_with_the_patch_mean():
    layer = SpecAugment(time_masks=2, time_width=5, freq_masks=1, freq_width=3, seed=0)
    x = np.random.default_rng(4).normal(size=(8, 96, 64)).astype(np.float32)
    np.testing.assert_array_equal(layer(x, training=False), x)
    out = np.asarray(layer(x, training=True))
    changed = out != x
    fill = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(np.where(changed, out, fill), np.broadcast_to(fill, x.shape), rtol=1e-5)
    frames = changed.all(axis=2).sum(axis=1)  # fully masked frames per patch
    bands = changed.all(axis=1).sum(axis=1)
    assert frames.max() <= 10 and bands.max() <= 3 and changed.any(axis=(1, 2)).sum() >= 6
    assert not np.array_equal(np.asarray(layer(x, training=True)), out)  # a fresh draw each call
    assert SpecAugment.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("masks", [0, 2])
def test_spec_augment_sits_in_the_native_yamnet_only_when_asked(masks):
    params = LeanParams(spec_time_masks=masks)
    net = yamnet(params, spec_augment=True)
    names = [layer.name for layer in net.layers]
    assert ("spec_augment" in names) == (masks > 0)
    assert len(net.get_weights()) == len(yamnet(params).get_weights())  # weights move between the two forms
    if masks:
        generator = net.get_layer("spec_augment").generator.state
        assert any(v is generator for v in seed_states(net))  # saved beside each checkpoint: resume is exact
