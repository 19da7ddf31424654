"""Feature front-end parameters, one frozen dataclass each, defaulting to the papers' values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MfccParams:
    """Lin 2024: librosa MFCCs averaged over time, 128 values per 10 s clip."""

    sample_rate: int = 22050
    n_mfcc: int = 128
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    clip_seconds: float = 10.0


@dataclass(frozen=True)
class MelSliceParams:
    """DeepASMR: log-mel slices of about one second (64 frames x 64 bands at 22.05 kHz).

    The thesis gives no STFT settings; 64 x 64 keeps the AE/VAE/cGAN shapes powers of two.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 344
    n_mels: int = 64
    frames: int = 64
    fmin: float = 0.0
    fmax: float = 11025.0
    log_floor: float = 1e-6

    @property
    def slice_samples(self) -> int:
        return (self.frames - 1) * self.hop_length + self.n_fft

    @property
    def slice_seconds(self) -> float:
        return self.frames * self.hop_length / self.sample_rate
