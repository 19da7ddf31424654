"""The five Table III models: sizes beside the paper's, forward shapes, what trains and what stays frozen."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lean.attention import AffinityAttention, BahdanauAttention
from lean.model import VARIANTS, build_model, params_with_classes, yamnet_layer

PAPER_COUNTS = {  # with FSD50K's 200 classes; the paper prints 3.42M, 3.53M, 4.51M, 4.51M, 4.58M
    "yamnet_frozen": 3_422_344,
    "yamnet_finetune": 3_531_144,
    "joint": 4_518_280,
    "joint_affinity": 4_518_280,
    "lean": 4_584_201,
}


def _batch(n=4, classes=3):
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.5, 0.5, (n, 16000)).astype(np.float32)
    y = (rng.random((n, classes)) > 0.5).astype(np.float32)
    return x, y


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_shape_size_and_frozen_split(variant):
    keras.utils.set_random_seed(0)
    model = build_model(variant, 3)
    x, y = _batch()
    assert model(x).shape == (4, 3) and model.name == variant
    assert params_with_classes(model, 200) == PAPER_COUNTS[variant]
    yam_ids = {id(w) for w in yamnet_layer(model).weights}
    trainable_ids = {id(w) for w in model.trainable_weights}
    if variant == "yamnet_finetune":
        assert yam_ids & trainable_ids
    else:
        assert not yam_ids & trainable_ids
        assert len(trainable_ids) > 0
    assert variant in ("joint", "joint_affinity", "lean") or "wave_bilstm_1" not in [layer.name for layer in model.layers]


@pytest.mark.parametrize("variant", ["lean", "yamnet_finetune"])
def test_one_training_step_moves_only_trainable_weights(variant):
    keras.utils.set_random_seed(0)
    model = build_model(variant, 3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", run_eagerly=True)
    yam_before = [w.numpy().copy() for w in yamnet_layer(model).weights]  # moving BN stats included
    head_before = model.get_layer("classifier").kernel.numpy().copy()
    model.train_on_batch(*_batch())
    yam_after = [w.numpy() for w in yamnet_layer(model).weights]
    changed = [not np.array_equal(a, b) for a, b in zip(yam_before, yam_after, strict=True)]
    assert not np.array_equal(head_before, model.get_layer("classifier").kernel.numpy())
    if variant == "yamnet_finetune":
        assert any(changed)
    else:
        assert not any(changed)


@pytest.mark.parametrize("layer", [AffinityAttention(), BahdanauAttention(8)])
def test_attention_weights_sum_to_one_and_weight_the_states(layer):
    rng = np.random.default_rng(0)
    query = rng.normal(size=(3, 6)).astype(np.float32)
    states = rng.normal(size=(3, 5, 6)).astype(np.float32)
    context, weights = (np.asarray(t) for t in layer([query, states]))
    assert weights.shape == (3, 5) and context.shape == (3, 6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    assert (weights > 0).all()
    np.testing.assert_allclose(context, np.einsum("bt,btd->bd", weights, states), rtol=1e-5, atol=1e-6)


def test_affinity_scores_follow_the_paper_equation():
    query = np.array([[1.0, 0.0]], np.float32)
    states = np.array([[[2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]], np.float32)
    _, weights = AffinityAttention()([query, states])
    expected = np.exp(np.tanh([2.0, 0.0, -1.0]))
    np.testing.assert_allclose(np.asarray(weights)[0], expected / expected.sum(), rtol=1e-6)


@pytest.mark.parametrize("sequences", [True, False])
def test_unrolled_bilstm_for_tflite_equals_keras_bidirectional(sequences):
    from lean.wave_encoder import UnrolledBiLSTM

    x = np.random.default_rng(0).normal(size=(3, 7, 5)).astype(np.float32)
    reference = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=sequences))
    reference.build((None, 7, 5))
    weights = [np.random.default_rng(i).normal(size=w.shape).astype(np.float32) * 0.5 for i, w in enumerate(reference.weights)]
    reference.set_weights(weights)
    unrolled = UnrolledBiLSTM(4, return_sequences=sequences)
    unrolled.build((None, 7, 5))
    unrolled.set_weights(weights)  # same weights, same order
    np.testing.assert_allclose(unrolled(x), reference(x), atol=1e-6)
