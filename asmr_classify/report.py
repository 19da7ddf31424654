"""Test metrics and the figures a person would rather see than read: confusion matrix, curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audioprep.report import pyplot


def metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, per-class precision/recall/F1/support (scikit-learn) and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    labels = list(range(len(classes)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else None,
        "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, c in enumerate(classes)},
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def format_metrics(result: dict) -> str:
    lines = [f"test accuracy: {result['accuracy']:.4f}" if result["accuracy"] is not None else "test set empty"]
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
    fig.savefig(path, dpi=110)
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
    fig.savefig(path, dpi=110)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
