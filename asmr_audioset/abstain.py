"""The abstain threshold of a trained model: under it a window is `other`, "none of these".

Validation data holds only the model's classes, so the threshold cannot be fitted on sounds that are none
of them; it is set so that the model keeps `ABSTAIN.keep` (95 %) of the validation windows it classifies
correctly, and anything less sure than those is `other` (the maximum-softmax-probability baseline for
unknown inputs). `train` stores `calibration(...)` in params.json; `load_classifier` and `lean tag`
read it back with `stored_threshold`, and a model without one gets `ABSTAIN.default_threshold`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asmr_audioset.params import ABSTAIN
from asmr_training.run_dir import PARAMS
from audioprep.files import read_json

KEY = "abstain_threshold"  # params.json
OTHER = "other"  # a trained model's "none of these"


def _right(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which windows' top class is (one of) their label(s): `labels` are class indexes (n,), or one-hot or
    multi-hot rows (n, classes) as LEAN's multi-label clips have."""
    if probs.ndim != 2 or len(probs) != len(labels):
        raise ValueError(f"probabilities {probs.shape} and labels {labels.shape} do not pair up")
    picks = probs.argmax(axis=1)
    if labels.ndim == 2:
        return labels[np.arange(len(labels)), picks] > 0
    return picks == labels


def calibrate(probs: np.ndarray, labels: np.ndarray, keep: float = ABSTAIN.keep) -> float:
    """The largest threshold that keeps at least `keep` of the correctly classified windows: the top
    probability of the ceil(keep * n)-th most confident of the n right ones. With no window classified
    correctly there is nothing to keep, and the default is returned."""
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep {keep}: must be in (0, 1]")
    probs = np.asarray(probs, np.float64)
    right = _right(probs, np.asarray(labels))
    if not right.any():
        return ABSTAIN.default_threshold
    tops = np.sort(probs.max(axis=1)[right])
    return float(tops[len(tops) - int(np.ceil(keep * len(tops) - 1e-9))])


def calibration(probs: np.ndarray, labels: np.ndarray, keep: float = ABSTAIN.keep) -> dict:
    """What `train` adds to params.json: the threshold, and how it was found and what it keeps."""
    threshold = calibrate(probs, labels, keep)
    probs = np.asarray(probs, np.float64)
    right = _right(probs, np.asarray(labels))
    kept = probs.max(axis=1) >= threshold
    return {KEY: threshold, "abstain_keep": keep, "abstain_windows": int(len(probs)),
            "abstain_kept_share": float(kept.mean()) if len(probs) else 0.0,
            "abstain_kept_accuracy": float(right[kept].mean()) if kept.any() else 0.0}


def stored_threshold(model_path) -> float:
    """The threshold in the params.json of a run folder, or beside a .keras file; the default without one
    (an exported .tflite carries none)."""
    path = Path(model_path)
    folder = path if path.is_dir() else path.parent
    params = folder / PARAMS
    meta = read_json(params) if path.suffix != ".tflite" and params.is_file() else {}
    return float(meta.get(KEY, ABSTAIN.default_threshold))
