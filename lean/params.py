"""LEAN hyper-parameters in one frozen dataclass, defaulting to the paper's values (Choudhary et al. 2023).

YAMNet's log-mel front end has its own small dataclass (`audioprep.params.FrontEndParams`: the tag pass
computes it without TensorFlow too), which `LeanParams.front_end` builds from LeanParams' sample rate: the
model's input length and its front end's framing follow one field.
"""

from __future__ import annotations

from dataclasses import dataclass

from audioprep.errors import UsageError
from audioprep.params import FrontEndParams


@dataclass(frozen=True)
class LeanParams:
    """Everything the LEAN models, trainer, evaluator and exporter read; scripts override fields by name."""

    # Input: 1 s patches, labelled with their clip's labels; short clips repeated to 1 s. Any rate whose
    # Nyquist frequency covers YAMNet's mel bands works (the front end and wave frames follow it).
    sample_rate: int = 16000
    patch_seconds: float = 1.0
    # Evaluation and tagging: 1 s chunks with 50 % overlap, chunk scores averaged per file.
    chunk_overlap: float = 0.5
    # YAMNet (tensorflow/models research/audioset/yamnet params.py); its front end is `front_end`.
    yamnet_classes: int = 521
    yamnet_bn_epsilon: float = 1e-4
    # Heads: projection of the 1024-d YAMNet embedding, Wave Encoder Bi-LSTM units over the patch cut
    # into `wave_frames` frames (40 x 25 ms), attention size d.
    projection_units: int = 256
    lstm_units: int = 128
    wave_frames: int = 40
    attention_units: int = 128
    # Training: batch 64, learning rate 1e-4, 40 epochs, best validation PR-AUC kept; a cap on the patches
    # a clip gives (for quick runs).
    batch_size: int = 64
    learning_rate: float = 1e-4
    epochs: int = 40
    seed: int = 0
    max_patches_per_clip: int | None = None  # the first patches of each clip only (None: all)
    # Augmentation of training batches (lean.augment), all off by default: SpecAugment masks on YAMNet's
    # 96 x 64 log-mel patch (each up to the given frames / bands wide, filled with the patch mean), mixup
    # with a Beta(alpha, alpha) weight, a uniform gain within +-gain_db and a circular shift of up to
    # time_shift of the patch either way.
    spec_time_masks: int = 0
    spec_time_mask_frames: int = 16
    spec_freq_masks: int = 0
    spec_freq_mask_bands: int = 8
    mixup_alpha: float = 0.0
    gain_db: float = 0.0
    time_shift: float = 0.0

    def __post_init__(self):
        nyquist, top = self.sample_rate / 2, self.front_end.mel_max_hz
        if nyquist < top:
            raise UsageError(
                f"LeanParams.sample_rate={self.sample_rate}: YAMNet's mel bands reach {top:g} Hz, above the "
                f"{nyquist:g} Hz Nyquist frequency; use {2 * top:g} Hz or more"
            )

    @property
    def patch_samples(self) -> int:
        return int(round(self.sample_rate * self.patch_seconds))

    @property
    def front_end(self) -> FrontEndParams:
        return FrontEndParams(self.sample_rate)

    @property
    def wave_frame_length(self) -> int:
        """Samples per Wave Encoder frame (400 at 16 kHz); a remainder at the patch's end is not framed."""
        return self.patch_samples // self.wave_frames


# What `--yamnet` takes, for every command that trains on YAMNet (lean.pretrain.backbone resolves it).
YAMNET_HELP = ("YAMNet weights: a .tflite or .h5 file, a SavedModel folder, a hub handle, or 'standin' to pretrain "
               "the native YAMNet on the training data (default: Google's YAMNet shipped in asmr_audioset/assets)")
