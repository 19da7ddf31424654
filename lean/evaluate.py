"""Chunked evaluation as in the paper: 1 s chunks with 50 % overlap, chunk scores averaged per clip.

Reports mAP and mAUC (scikit-learn, over the classes that have both positives and negatives in
the split), d-prime = sqrt(2) * Phi^-1(mAUC) (scipy), and the per-class AP from which the paper's
Table II counts classes improved between two models. Single-label data (one label per clip) also
gets clip accuracy and macro-F1 of the top-scoring class.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from audioprep.segment import sliding_windows
from lean.data import ClipSet
from lean.params import LeanParams

IMPROVEMENT_STEPS = (0.05, 0.10, 0.20)


def clip_scores(scorer, clips: list[np.ndarray], params: LeanParams = LeanParams(), batch_windows: int = 256) -> np.ndarray:
    """(n_clips, classes): each clip cut into 1 s windows (50 % overlap), scored, and the scores averaged.

    Windows of whole clips are gathered until about `batch_windows` are pending, then scored together.
    """
    means: list[np.ndarray] = []
    pending: list[np.ndarray] = []

    def flush():
        if pending:
            scores = scorer(np.concatenate(pending))
            bounds = np.cumsum([0] + [len(p) for p in pending])
            means.extend(scores[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
            pending.clear()

    for audio in clips:
        pending.append(sliding_windows(np.asarray(audio, np.float32), params.patch_samples, params.chunk_overlap))
        if sum(len(p) for p in pending) >= batch_windows:
            flush()
    flush()
    return np.stack(means).astype(np.float32)


def scores_metrics(y_true: np.ndarray, y_score: np.ndarray) -> dict:
    """mAP, mAUC, d-prime and per-class AP (NaN for classes without positives and negatives)."""
    y_true = np.asarray(y_true) > 0.5
    per_class_ap = np.full(y_true.shape[1], np.nan)
    per_class_auc = np.full(y_true.shape[1], np.nan)
    for c in range(y_true.shape[1]):
        positives = y_true[:, c].sum()
        if 0 < positives < len(y_true):
            per_class_ap[c] = average_precision_score(y_true[:, c], y_score[:, c])
            per_class_auc[c] = roc_auc_score(y_true[:, c], y_score[:, c])
    valid = ~np.isnan(per_class_ap)
    if not valid.any():
        raise ValueError("no class has both positive and negative clips: mAP is undefined")
    mauc = float(np.mean(per_class_auc[valid]))
    return {
        "mAP": float(np.mean(per_class_ap[valid])),
        "mAUC": mauc,
        "dprime": float(np.sqrt(2.0) * norm.ppf(mauc)),
        "classes_scored": int(valid.sum()),
        "per_class_ap": [None if np.isnan(v) else float(v) for v in per_class_ap],
    }


def single_label_metrics(y_true: np.ndarray, y_score: np.ndarray) -> dict:
    """Clip accuracy and macro-F1 (over the classes the clips hold) of the top-scoring class."""
    truth, predicted = np.asarray(y_true).argmax(1), np.asarray(y_score).argmax(1)
    return {
        "accuracy": float(np.mean(truth == predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=np.unique(truth), average="macro", zero_division=0)),
    }


def evaluate(scorer, clips: ClipSet, params: LeanParams = LeanParams()) -> dict:
    """Chunked evaluation of one scorer on one split (plus accuracy and macro-F1 when each clip has one label)."""
    scores = clip_scores(scorer, clips.clips, params)
    result = scores_metrics(clips.labels, scores)
    if len(clips.labels) and (clips.labels.sum(axis=1) == 1).all():
        result.update(single_label_metrics(clips.labels, scores))
    return result


def classes_improved(base_ap, ref_ap, steps=IMPROVEMENT_STEPS) -> dict:
    """Table II: how many classes the reference model R scores a higher AP on than the baseline B,
    overall and by a relative margin (AP_R > AP_B * (1 + step))."""
    base = np.array([np.nan if v is None else v for v in base_ap], float)
    ref = np.array([np.nan if v is None else v for v in ref_ap], float)
    ok = ~np.isnan(base) & ~np.isnan(ref)
    out = {"classes": int(ok.sum()), "overall": int((ref[ok] > base[ok]).sum())}
    for step in steps:
        out[f"by {int(step * 100)}%"] = int((ref[ok] > base[ok] * (1.0 + step)).sum())
    return out
