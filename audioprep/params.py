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
class FrontEndParams:
    """YAMNet's log-mel front end (tensorflow/models research/audioset/yamnet params.py values).

    Window, hop and patch are in seconds, so any sample rate frames 25 ms windows 10 ms apart and
    YAMNet's conv stack sees the same 96 x 64 patch; at 16 kHz: windows of 400, hop 160, a 512-point FFT.
    """

    sample_rate: int
    window_seconds: float = 0.025
    hop_seconds: float = 0.010
    mel_bands: int = 64
    mel_min_hz: float = 125.0
    mel_max_hz: float = 7500.0
    log_offset: float = 0.001
    patch_seconds: float = 0.96

    @property
    def window_samples(self) -> int:
        return int(round(self.sample_rate * self.window_seconds))

    @property
    def hop_samples(self) -> int:
        return int(round(self.sample_rate * self.hop_seconds))

    @property
    def fft_length(self) -> int:
        return 2 ** math.ceil(math.log2(self.window_samples))

    def frames(self, samples: int) -> int:
        """STFT frames in `samples` samples (no padding: a partial last window is dropped)."""
        return 0 if samples < self.window_samples else 1 + (samples - self.window_samples) // self.hop_samples

    @property
    def patch_frames(self) -> int:
        """Frames in YAMNet's one input patch (96)."""
        return int(round(self.patch_seconds / self.hop_seconds))
