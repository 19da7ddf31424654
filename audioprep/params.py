"""Feature front-end parameters, one frozen dataclass each, defaulting to the papers' values."""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class YamnetParams:
    """YAMNet's front end (tensorflow/models research/audioset/yamnet params.py values)."""

    sample_rate: int = 16000
    stft_window_seconds: float = 0.025
    stft_hop_seconds: float = 0.010
    mel_bands: int = 64
    mel_min_hz: float = 125.0
    mel_max_hz: float = 7500.0
    log_offset: float = 0.001
    patch_window_seconds: float = 0.96
    patch_hop_seconds: float = 0.48

    @property
    def window_samples(self) -> int:
        return int(round(self.sample_rate * self.stft_window_seconds))

    @property
    def hop_samples(self) -> int:
        return int(round(self.sample_rate * self.stft_hop_seconds))

    @property
    def fft_length(self) -> int:
        return 2 ** math.ceil(math.log2(self.window_samples))

    def frames(self, samples: int) -> int:
        """STFT frames in `samples` samples (no padding: a partial last window is dropped)."""
        return 0 if samples < self.window_samples else 1 + (samples - self.window_samples) // self.hop_samples

    @property
    def patch_frames(self) -> int:
        return int(round(self.patch_window_seconds / self.stft_hop_seconds))

    @property
    def patch_hop_frames(self) -> int:
        return int(round(self.patch_hop_seconds / self.stft_hop_seconds))


@dataclass(frozen=True)
class WaveFrameParams:
    """LEAN's Wave Encoder input: 1 s at 16 kHz as 40 non-overlapping 25 ms frames of 400 samples."""

    sample_rate: int = 16000
    frames: int = 40
    frame_length: int = 400
