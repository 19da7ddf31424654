"""Log-mel image grids: what `vary` / `blend` / `sample` write beside their audio, what training writes
every few epochs, and the experiments' figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audioprep.files import atomic_write
from audioprep.report import pyplot


def save_mel_grid(path: Path, named_mels: dict[str, np.ndarray], columns: int | None = None,
                  title: str | None = None) -> Path:
    """One image per (frames, n_mels) log-mel, time left to right, low bands at the bottom, side by side."""
    plt = pyplot()
    names = list(named_mels)
    columns = columns or len(names)
    rows = int(np.ceil(len(names) / columns))
    values = np.concatenate([np.ravel(named_mels[n]) for n in names])
    vmin, vmax = np.percentile(values, [1, 99.5])
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, name in zip(axes.ravel(), names, strict=False):
        ax.imshow(np.asarray(named_mels[name]).T, origin="lower", aspect="auto", vmin=vmin, vmax=vmax, cmap="magma")
        ax.set_title(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=80))
    plt.close(fig)
    return path
