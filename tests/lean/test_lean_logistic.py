"""lean.logistic: the probe's L-BFGS logistic regression is the optimum scikit-learn finds, on raw inputs, and
near-constant dimensions get no outsized weights."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from lean.logistic import LogisticParams, _loss_and_gradient, fit_logistic, standardising_scale


def _blobs(seed: int = 0, n: int = 240, d: int = 16, k: int = 3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, (k, d))
    labels = rng.integers(0, k, n)
    x = centres[labels] + rng.normal(0, 1.5, (n, d))
    return x * rng.uniform(0.1, 30, d) + rng.normal(0, 5, d), labels  # badly scaled, as embeddings can be


def test_softmax_probe_matches_scikit_learns_multinomial_optimum():
    x, labels = _blobs()
    params = LogisticParams()
    kernel, bias = fit_logistic(x, np.eye(3)[labels], multi_label=False, params=params)
    mean, scale = x.mean(axis=0), standardising_scale(x)
    reference = LogisticRegression(C=1 / (params.l2 * len(x)), tol=1e-10, max_iter=5000).fit((x - mean) / scale, labels)
    ours = x @ kernel + bias
    theirs = reference.decision_function((x - mean) / scale)
    np.testing.assert_allclose(ours - ours.mean(axis=1, keepdims=True), theirs - theirs.mean(axis=1, keepdims=True),
                               atol=2e-3)
    assert (ours.argmax(axis=1) == labels).mean() == pytest.approx(reference.score((x - mean) / scale, labels))


def test_multi_label_probe_is_converged():
    x, labels = _blobs(seed=1)
    y = np.eye(3)[labels]
    y[::4, 0] = 1.0  # some rows carry two labels
    kernel, bias = fit_logistic(x, y, multi_label=True)
    mean, scale = x.mean(axis=0), standardising_scale(x)
    weights = kernel * scale[:, None]
    theta = np.concatenate([weights.ravel(), bias + mean @ kernel])
    _, gradient = _loss_and_gradient(theta, (x - mean) / scale, y, True, LogisticParams().l2)
    assert np.abs(gradient).max() < 1e-4


def test_near_constant_dimensions_get_no_outsized_weights():
    """Embeddings with many near-constant dimensions, as YAMNet's: without the spread floor their weights would
    be scaled up by the inverse of a tiny spread; with it the largest weight stays on an informative dimension
    and the fit classifies as well."""
    x, labels = _blobs(seed=2, d=16)
    rng = np.random.default_rng(3)
    quiet = rng.normal(0, 1e-4, (len(x), 12)) * rng.uniform(0.01, 1, 12)  # spreads 1e-6 .. 1e-4, under half
    wide = np.concatenate([x, quiet], axis=1)
    kernel, bias = fit_logistic(wide, np.eye(3)[labels], multi_label=False)
    informative = np.abs(kernel[:16]).max()
    assert np.abs(kernel[16:]).max() < informative, (np.abs(kernel[16:]).max(), informative)
    unfloored, _ = fit_logistic(wide, np.eye(3)[labels], multi_label=False, params=LogisticParams(spread_floor=0.0))
    assert np.abs(unfloored[16:]).max() > 10 * informative  # what the floor prevents
    plain, plain_bias = fit_logistic(x, np.eye(3)[labels], multi_label=False)
    accuracy = ((wide @ kernel + bias).argmax(axis=1) == labels).mean()
    assert accuracy >= ((x @ plain + plain_bias).argmax(axis=1) == labels).mean() - 0.01
    assert standardising_scale(wide)[16:].min() == pytest.approx(0.3 * np.median(wide.std(axis=0)))
