"""Tables and figures for LEAN's experiment scripts."""

from __future__ import annotations

from pathlib import Path

from audioprep.files import atomic_write
from audioprep.report import pyplot


def bar_chart(path, names: list[str], ours: list[float], paper: list[float], ylabel: str, title: str) -> Path:
    """Ours beside the paper's, one pair of bars per model."""
    import numpy as np

    plt = pyplot()

    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(x - 0.2, ours, 0.4, label="ours (this run)")
    ax.bar(x + 0.2, paper, 0.4, label="paper")
    ax.set_xticks(x, names, rotation=15)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120))
    plt.close(fig)
    return path
