"""Shapes and parameter counts of every classifier; Lin's Figure 5 exactly."""

from __future__ import annotations

import numpy as np
import pytest

from asmr_classify import models
from asmr_classify.params import params_for
from audioprep.errors import UsageError

# (Figure 5) output shape and parameter count of every layer of Lin's Conv1D, in order.
FIGURE5 = [
    ((128, 256), 1536), ((128, 256), 1024), ((64, 256), 0),
    ((64, 256), 327936), ((64, 256), 0), ((32, 256), 0),
    ((32, 128), 163968), ((32, 128), 0), ((16, 128), 0),
    ((16, 64), 41024), ((16, 64), 0), ((8, 64), 0),
    ((512,), 0), ((1024,), 525312), ((1024,), 0), ((2,), 2050),
]


def _non_trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)


def test_lin_conv1d_matches_figure5_layer_by_layer():
    model = models.build("lin_conv1d")
    assert model.count_params() == 1_062_850
    assert _non_trainable(model) == 512
    got = [(tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers[1:]]
    assert got == FIGURE5


def _conv(cin, cout, k):
    return cin * cout * k + cout


@pytest.mark.parametrize(
    "name, expected",
    [
        # normalize(64+64+1) + dense(22696->64) + dense(64->9)
        ("dense_audio", 3 + 22696 * 64 + 64 + 64 * 9 + 9),
        ("cnn2d", 129 + _conv(1, 32, 9) + 32 * 64 + 64 + 64 * 9 + 9),
        ("cnn2d_x4", 129 + _conv(1, 32, 9) + _conv(32, 32, 9) + _conv(32, 64, 9) + _conv(64, 64, 9)
         + 64 * 64 + 64 + 64 * 9 + 9),
        ("cnn1d", 129 + _conv(64, 32, 3) + 32 * 64 + 64 + 64 * 9 + 9),
        ("cnn1d_x4", 129 + _conv(64, 32, 3) + _conv(32, 32, 3) + _conv(32, 64, 3) + _conv(64, 64, 3)
         + 64 * 64 + 64 + 64 * 9 + 9),
    ],
)
def test_deepasmr_family_parameter_counts(name, expected):
    assert models.build(name).count_params() == expected


def test_every_model_predicts_probabilities_and_exposes_embedding():
    rng = np.random.default_rng(0)
    for name in models.NAMES:
        model = models.build(name, num_classes=3)
        x = rng.normal(size=(2, *model.input_shape[1:])).astype("float32")
        p = model.predict(x, verbose=0)
        assert p.shape == (2, 3)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
        emb = models.embedding_model(model).predict(x, verbose=0)
        assert emb.shape == (2, model.get_layer("embedding").units)


def test_deepasmr_is_e_with_elu_tanh_and_rmsprop():
    model = models.build("deepasmr")
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv1D"]
    assert len(convs) == 4 and {c.activation.__name__ for c in convs} == {"elu"}
    assert model.get_layer("embedding").activation.__name__ == "tanh"
    assert model.optimizer.__class__.__name__ == "RMSprop"
    assert models.build("cnn1d_x4").optimizer.__class__.__name__ == "Adam"


def test_adapt_fits_normalisation_to_training_inputs():
    model = models.build("cnn1d", num_classes=2)
    x = np.random.default_rng(1).normal(5.0, 2.0, size=(50, 64, 64)).astype("float32")
    models.adapt(model, x)
    norm = model.get_layer("normalize")
    np.testing.assert_allclose(np.asarray(norm.mean).ravel(), x.mean(axis=(0, 1)), rtol=1e-4)


def test_unknown_model_and_hyper_parameter_are_usage_errors():
    with pytest.raises(UsageError, match="unknown model"):
        models.build("resnet")
    with pytest.raises(UsageError, match="widht"):
        params_for("deepasmr", widht=3)
