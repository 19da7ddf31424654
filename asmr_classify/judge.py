"""A trained classifier used as the judge of generated audio (DeepASMR's Table 3, Adell's Table 5).

It gives class probabilities, the share of a set classified as an intended class, and its
penultimate-layer embedding, on which generated and real sets are compared (`frechet_distance`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.linalg

from asmr_classify.models import embedding_model
from asmr_classify.predict import load_classifier, predict_batched, predict_proba


class Judge:
    """A classifier trained on real slices that judges generated ones."""

    def __init__(self, model, classes):
        self.model, self.classes = model, list(classes)
        self._embedder = None

    @classmethod
    def from_run(cls, folder: Path) -> Judge:
        """The best model of an asmr_classify run folder, with the classes its params.json names."""
        classifier = load_classifier(folder)
        return cls(classifier.model, classifier.classes)

    def proba(self, x: np.ndarray) -> np.ndarray:
        return predict_proba(self.model, x)

    def share(self, x: np.ndarray, target: int) -> float:
        """The fraction of `x` whose most probable class is `target`."""
        return float(np.mean(self.proba(x).argmax(1) == target))

    def embed(self, x: np.ndarray) -> np.ndarray:
        if self._embedder is None:
            self._embedder = embedding_model(self.model)
        return predict_batched(self._embedder, x)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of embeddings (the FID formula)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * np.real(root)))
