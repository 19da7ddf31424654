"""LEAN hyper-parameters in one frozen dataclass, defaulting to the paper's values (Choudhary et al. 2023)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LeanParams:
    """Everything the LEAN models, trainer, evaluator and exporter read; scripts override fields by name."""

    # Input: 1 s patches of 16 kHz audio, labelled with their clip's labels; short clips repeated to 1 s.
    sample_rate: int = 16000
    patch_seconds: float = 1.0
    # Evaluation and tagging: 1 s chunks with 50 % overlap, chunk scores averaged per file.
    chunk_overlap: float = 0.5
    # YAMNet (tensorflow/models research/audioset/yamnet params.py).
    yamnet_classes: int = 521
    yamnet_patch_frames: int = 96
    yamnet_mel_bands: int = 64
    yamnet_bn_epsilon: float = 1e-4
    # Heads: projection of the 1024-d YAMNet embedding, Wave Encoder Bi-LSTM units, attention size d.
    projection_units: int = 256
    lstm_units: int = 128
    wave_frames: int = 40
    wave_frame_length: int = 400
    attention_units: int = 128
    # Training: batch 64, learning rate 1e-4, 40 epochs, best validation PR-AUC kept.
    batch_size: int = 64
    learning_rate: float = 1e-4
    epochs: int = 40
    seed: int = 0

    @property
    def patch_samples(self) -> int:
        return int(round(self.sample_rate * self.patch_seconds))
