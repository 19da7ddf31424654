"""Hyper-parameters of the waveform generators (Adell et al. 2020), one frozen dataclass per model.

The paper's WaveNet (Table 1: 5 stacks x 10 layers, 256 input channels, 512 residual channels,
16 kHz, 32,000 steps per example) is `WaveNetParams.paper()`. The default is a small configuration
that trains on two CPU cores: 2 stacks x 8 layers (receptive field 512 samples = 64 ms at 8 kHz),
32 residual channels. 8 kHz halves the steps per second of audio against 16 kHz, which is what
makes per-trigger models trainable within the experiment's CPU budget; `--config paper` restores
16 kHz. WaveRNN runs at 22.05 kHz as in the paper (it worked better for them than 40 kHz); the
paper gives no hidden size, so `paper()` takes the original WaveRNN's 896 units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class WaveNetParams:
    """WaveNet: causal dilated convolutions over 8-bit mu-law codes, 256-way softmax."""

    sample_rate: int = 8000
    layers_per_stack: int = 8
    stacks: int = 2
    quantization: int = 256  # input channels (one-hot mu-law) and softmax size
    residual_channels: int = 32
    skip_channels: int = 64
    kernel_size: int = 2
    segment_samples: int = 2048  # time steps trained at once
    batch_size: int = 8
    learning_rate: float = 1e-3
    steps_per_epoch: int = 50
    epochs: int = 10
    channels: int = 1  # 2 = the stereo variant (both channels predicted jointly)

    @classmethod
    def paper(cls) -> WaveNetParams:
        return cls(sample_rate=16000, layers_per_stack=10, stacks=5, residual_channels=512,
                   skip_channels=512, segment_samples=32000, batch_size=1)

    @property
    def dilations(self) -> list[int]:
        return [2**i for i in range(self.layers_per_stack)] * self.stacks

    @property
    def receptive_field(self) -> int:
        """Samples seen by one output: the input causal conv plus every dilated layer."""
        return (self.kernel_size - 1) * (sum(self.dilations) + 1) + 1


@dataclass(frozen=True)
class WaveRNNParams:
    """WaveRNN: one GRU-like layer, dual softmax over the coarse and fine bytes of 16-bit samples."""

    sample_rate: int = 22050
    hidden: int = 128  # split in halves: coarse and fine
    output_hidden: int = 128  # O1 / O3 width
    embedding: int = 16  # b of equations 3
    segment_samples: int = 1024
    batch_size: int = 16
    learning_rate: float = 1e-3
    steps_per_epoch: int = 50
    epochs: int = 10

    @classmethod
    def paper(cls) -> WaveRNNParams:
        return cls(hidden=896, output_hidden=896, segment_samples=2048, batch_size=32)


CONFIGS = ("default", "paper")


def wavenet_params(config: str = "default", **overrides) -> WaveNetParams:
    base = WaveNetParams.paper() if config == "paper" else WaveNetParams()
    return replace(base, **overrides)


def wavernn_params(config: str = "default", **overrides) -> WaveRNNParams:
    base = WaveRNNParams.paper() if config == "paper" else WaveRNNParams()
    return replace(base, **overrides)
