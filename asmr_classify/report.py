"""Test metrics and the figures a person would rather see than read: confusion matrix, curves.

Slice classifiers are also scored per clip: the probabilities of a clip's slices are averaged and the
clip takes the most probable class, so a 5 s clip counts once however many ~1 s slices it gave.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audioprep.files import atomic_write
from audioprep.report import pyplot


def _macro_f1(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> float | None:
    """Macro-F1 over the classes present in the test set (a class it lacks has no F1 to average)."""
    from sklearn.metrics import f1_score

    present = sorted(set(np.asarray(y_true).tolist()))
    return float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)) if present else None


def metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support (scikit-learn) and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    labels = list(range(len(classes)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else None,
        "macro_f1": _macro_f1(y_true, y_pred, classes),
        "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, c in enumerate(classes)},
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def clip_scores(probs: np.ndarray, y: np.ndarray, files: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(true class, predicted class) per clip: the mean of its slices' probabilities, clips in first-seen order."""
    order = list(dict.fromkeys(files))
    index = {f: i for i, f in enumerate(order)}
    rows = np.asarray([index[f] for f in files])
    sums = np.zeros((len(order), probs.shape[1]))
    np.add.at(sums, rows, probs)
    truth = np.zeros(len(order), np.int64)
    truth[rows] = y
    return truth, sums.argmax(axis=1)


def clip_metrics(probs: np.ndarray, y: np.ndarray, files: list[str], classes: list[str]) -> dict:
    """Clip accuracy, macro-F1 and per-class clip counts from slice probabilities averaged per clip."""
    truth, pred = clip_scores(probs, y, files)
    return {"accuracy": float(np.mean(truth == pred)), "macro_f1": _macro_f1(truth, pred, classes),
            "clips": len(truth), "support": np.bincount(truth, minlength=len(classes)).tolist()}


def class_counts(support: list[int], classes: list[str]) -> str:
    """Per-class test counts as one short line, printed beside an accuracy ("asmr 30, speech 12")."""
    return ", ".join(f"{c} {n}" for c, n in zip(classes, support, strict=True))


def mean_std(values) -> str:
    """"mean ± std" in percent of fractions (folds, seeds)."""
    values = 100 * np.asarray(values, dtype=float)
    return f"{values.mean():.1f} ± {values.std():.1f}"


def format_metrics(result: dict) -> str:
    """The test report: slice and clip scores on one line each (with the degenerate-split warning beside
    each number when there is one), then the per-class table."""
    warn = f"   WARNING: {result['warning']}" if result.get("warning") else ""
    if result["accuracy"] is None:
        lines = ["test set empty" + warn]
    else:
        n = sum(m["support"] for m in result["per_class"].values())
        lines = [f"test accuracy: {result['accuracy']:.4f}   macro-F1: {result['macro_f1']:.4f}   ({n} inputs){warn}"]
    if result.get("clip"):
        clip = result["clip"]
        lines.append(f"clip accuracy: {clip['accuracy']:.4f}   macro-F1: {clip['macro_f1']:.4f}   "
                     f"({clip['clips']} clips, slice probabilities averaged){warn}")
    lines.append(f"{'class':<28} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>5}")
    for name, m in result["per_class"].items():
        lines.append(f"{name:<28} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>5}")
    return "\n".join(lines)


def plot_confusion(confusion, classes: list[str], path, title: str = "confusion matrix (test)") -> Path:
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = pyplot()
    size = max(4.0, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay(np.asarray(confusion), display_labels=classes).plot(
        ax=ax, xticks_rotation=45, colorbar=False, cmap="Blues")
    ax.set_title(title)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
    return Path(path)


def plot_curves(history: list[dict], path, title: str = "") -> Path:
    """Loss and accuracy per epoch, train and validation (Lin's Figures 6-7 side by side)."""
    plt = pyplot()
    epochs = [int(r["epoch"]) + 1 for r in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = [r.get(prefix + key) for r in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, style, label=("validation " if prefix else "train ") + key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(f"{title} {key} per epoch".strip())
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
    return Path(path)


def plot_tsne(embeddings: dict[str, np.ndarray], y: np.ndarray, classes: list[str], path, seed: int = 0) -> Path:
    """DeepASMR Figure 10: t-SNE of each model's embeddings, one colour per label, panels side by side."""
    from sklearn.manifold import TSNE

    plt = pyplot()
    fig, axes = plt.subplots(1, len(embeddings), figsize=(6 * len(embeddings), 5), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, (title, emb) in zip(axes[0], embeddings.items(), strict=True):
        perplexity = float(min(30, max(2, (len(emb) - 1) // 3)))
        points = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(emb)
        for i, name in enumerate(classes):
            sel = y == i
            ax.scatter(points[sel, 0], points[sel, 1], s=8, color=cmap(i % 10), label=name)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][-1].legend(fontsize=7, markerscale=2, loc="best")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110))
    plt.close(fig)
    return Path(path)
