"""Posterior-collapse diagnostic for a trained VAE (the thesis's Figure 14: different inputs, one output).

Three numbers, measured on held-out slices:
- active units: latent dimensions whose posterior mean varies across inputs, Cov_x(E[z_u|x]) > 0.01
  (Burda et al. 2016); a collapsed dimension has the same mean for every input;
- KL per dimension: the batch-mean KL(q(z_u|x) || N(0,1)); near zero means the dimension carries no
  information about the input;
- output diversity: the mean pairwise distance between the decodings of different inputs, divided
  by the mean pairwise distance between the inputs themselves (1 = as varied as the data,
  0 = every input gives the same output).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from asmr_generate.mel.models import MelVAE
from audioprep.files import atomic_write
from audioprep.report import pyplot

ACTIVE_THRESHOLD = 0.01


@dataclass
class CollapseReport:
    active_units: int
    latent_dim: int
    kl_total: float
    kl_per_dim: list[float]
    output_diversity: float

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("kl_per_dim")
        d["dims_with_kl_over_0.1"] = int(np.sum(np.asarray(self.kl_per_dim) > 0.1))
        return d


def _mean_pairwise_distance(x: np.ndarray) -> float:
    flat = x.reshape(len(x), -1).astype(np.float64)
    sq = np.sum(flat**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * flat @ flat.T, 0.0)
    n = len(x)
    return float(np.sqrt(d2)[np.triu_indices(n, 1)].mean())


def diagnose(model: MelVAE, x: np.ndarray, max_inputs: int = 256, seed: int = 0) -> CollapseReport:
    """Measure active units, KL per dimension and output diversity on up to `max_inputs` slices."""
    if len(x) > max_inputs:
        x = x[np.random.default_rng(seed).choice(len(x), max_inputs, replace=False)]
    mean, log_var = model.posterior(x)
    kl = 0.5 * (np.exp(log_var) + mean**2 - 1.0 - log_var)
    kl_dims = kl.mean(axis=0)
    active = int(np.sum(mean.var(axis=0) > ACTIVE_THRESHOLD))
    outputs = model.decode(mean)
    diversity = _mean_pairwise_distance(outputs) / max(_mean_pairwise_distance(x), 1e-9)
    return CollapseReport(active, int(mean.shape[1]), float(kl_dims.sum()), [float(v) for v in kl_dims], float(diversity))


def plot(reports: dict[str, CollapseReport], path: Path) -> Path:
    """KL per latent dimension, sorted, one line per run (a collapsed VAE hugs zero)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, r in reports.items():
        ax.plot(np.sort(r.kl_per_dim)[::-1], label=f"{name}: {r.active_units}/{r.latent_dim} active, "
                f"diversity {r.output_diversity:.2f}")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("latent dimension (sorted by KL)")
    ax.set_ylabel("KL (nats)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=90))
    plt.close(fig)
    return path
