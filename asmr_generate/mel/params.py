"""Hyper-parameters of DeepASMR's mel-spectrogram generators (Moon 2020, section 4), one frozen dataclass each.

The thesis fixes: the AE/VAE encoder and decoder follow the (f) classifier (four 1D convolutions
over time with the 64 mel bands as channels, ELU); VAE latent size 256 and a 5-layer decoder
(4 and 6 were worse); the cGAN has four 2D convolutions in each net, LeakyReLU in the generator,
tanh in the discriminator, sigmoid last in both, and label embeddings as the condition.
It is silent on widths, optimisers, batch size, the GAN's noise size and the KL weighting; those
are the values below (Keras-tutorial / DCGAN defaults), and every run writes them to params.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asmr_classify.params import DEEPASMR_SWEPT
from audioprep.params import MelSliceParams


@dataclass(frozen=True)
class AEParams:
    """Autoencoder from the (f) classifier's layout: its widths, kernel and activation are read from
    asmr_classify's `DEEPASMR_SWEPT` (the swept `deepasmr` model), so the two stay one layout.

    The classifier ends in global average pooling; an autoencoder must keep *when* each tap
    happens, so the encoder flattens the last feature map instead and projects it to the latent.
    `vary_noise` is the latent perturbation (relative to the latent's RMS) used by `vary`.
    """

    filters: int = DEEPASMR_SWEPT["filters"]
    kernel_size: int = DEEPASMR_SWEPT["kernel_size"]
    activation: str = DEEPASMR_SWEPT["activation"]
    latent_dim: int = 256
    decoder_depth: int = 5
    learning_rate: float = 1e-3
    batch_size: int = 32
    epochs: int = 30
    vary_noise: float = 0.1
    grid_every: int = 5


@dataclass(frozen=True)
class VAEParams(AEParams):
    """VAE: the AE plus a Gaussian sampling layer; latent 256, decoder depth 5 (the paper's best).

    Posterior-collapse remedy (off with `kl_warmup_epochs=0, free_bits=0`): the KL weight rises
    linearly from 0 to `beta` over the first `kl_warmup_epochs` epochs (Bowman et al. 2016), and
    each latent dimension's KL below `free_bits` nats is not penalised (Kingma et al. 2016), so
    the encoder is never pushed to switch a dimension off entirely.
    `recon_weight` scales the summed per-pixel reconstruction loss; 1 / (frames * n_mels) gives the
    per-pixel *mean* that many Keras VAE tutorials use, the regime where the KL term dominates and
    posterior collapse appears (experiments/table4.py measures both).
    """

    beta: float = 1.0
    kl_warmup_epochs: int = 10
    free_bits: float = 0.05
    recon_weight: float = 1.0


@dataclass(frozen=True)
class CGANParams:
    """Conditional GAN: four 2D convolutions in G and in D, label embeddings as the condition."""

    noise_dim: int = 100
    embedding_dim: int = 50
    filters: int = 64
    kernel_size: int = 4
    leaky_slope: float = 0.2
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    batch_size: int = 32
    epochs: int = 30
    grid_every: int = 5


@dataclass(frozen=True)
class GenerateParams:
    """Mel front end and inversion shared by training, generation and the experiments."""

    mel: MelSliceParams = field(default_factory=MelSliceParams)
    griffin_lim_iters: int = 32
    seed: int = 0


MODEL_PARAMS = {"ae": AEParams, "vae": VAEParams, "cgan": CGANParams}
