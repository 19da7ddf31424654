"""Training-time augmentation, off unless LeanParams asks: SpecAugment, mixup, random gain, time shift.

Gain, shift and mixup change a batch in numpy as it is read: the random draws come from
`numpy.random.default_rng([seed, epoch, batch])`, so a resumed run augments each batch exactly as an
uninterrupted one would. SpecAugment masks YAMNet's log-mel patch, so it is a layer inside the native
YAMNet graph (active only when training); its Keras seed generator is a model variable and is
restored with the run's checkpoint. Masks are filled with the patch's mean, not zero: a zero log-mel
value is a loud bin, not a silent one.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from asmr_training.batches import ShuffledBatches
from lean.params import LeanParams

AUGMENT_STREAM = 1  # keeps the augmentation draws apart from the batch order's (seed, epoch) stream


def spec_augmented(params: LeanParams) -> bool:
    return params.spec_time_masks > 0 or params.spec_freq_masks > 0


def changes_waveforms(params: LeanParams) -> bool:
    """Whether a patch's YAMNet embedding differs from epoch to epoch (so it cannot be computed once)."""
    return spec_augmented(params) or params.gain_db > 0 or params.time_shift > 0


def batch_augmented(params: LeanParams) -> bool:
    return params.mixup_alpha > 0 or params.gain_db > 0 or params.time_shift > 0


def gain(x: np.ndarray, max_db: float, rng: np.random.Generator) -> np.ndarray:
    """Each row scaled by a gain drawn uniformly within +-max_db."""
    db = rng.uniform(-max_db, max_db, (len(x), 1))
    return (x * 10.0 ** (db / 20.0)).astype(np.float32)


def time_shift(x: np.ndarray, max_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Each row rolled circularly by up to max_fraction of its length either way (no samples lost)."""
    limit = int(max_fraction * x.shape[1])
    shifts = rng.integers(-limit, limit + 1, len(x))
    return np.stack([np.roll(row, s) for row, s in zip(x, shifts, strict=True)]).astype(np.float32)


def mixup(x: np.ndarray, y: np.ndarray, alpha: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each example mixed with another of the batch by a Beta(alpha, alpha) weight, labels alike."""
    lam = rng.beta(alpha, alpha, len(x)).astype(np.float32)
    partner = rng.permutation(len(x))
    mix = lam.reshape((-1,) + (1,) * (x.ndim - 1))
    return (mix * x + (1 - mix) * x[partner]).astype(np.float32), (lam[:, None] * y + (1 - lam[:, None]) * y[partner]).astype(np.float32)


def augment_batch(x, y, params: LeanParams, rng: np.random.Generator, waveforms: bool = True):
    """Gain and shift (waveform batches only), then mixup (waveforms or embeddings)."""
    if waveforms and params.gain_db > 0:
        x = gain(x, params.gain_db, rng)
    if waveforms and params.time_shift > 0:
        x = time_shift(x, params.time_shift, rng)
    if params.mixup_alpha > 0:
        x, y = mixup(x, y, params.mixup_alpha, rng)
    return x, y


class AugmentedBatches(ShuffledBatches):
    """ShuffledBatches whose every batch is augmented with draws seeded by (seed, epoch, batch index)."""

    def __init__(self, count: int, load: Callable, params: LeanParams, waveforms: bool = True):
        super().__init__(count, params.batch_size, load, seed=params.seed)
        self.params, self.waveforms = params, waveforms

    def __getitem__(self, index: int):
        x, y = super().__getitem__(index)
        rng = np.random.default_rng([self.seed, self.epoch, index, AUGMENT_STREAM])
        return augment_batch(x, y, self.params, rng, self.waveforms)


def training_batches(count: int, load: Callable, params: LeanParams, waveforms: bool = True) -> ShuffledBatches:
    """The training batches: augmented when params ask for batch augmentation, else plain ShuffledBatches."""
    if batch_augmented(params):
        return AugmentedBatches(count, load, params, waveforms)
    return ShuffledBatches(count, params.batch_size, load, seed=params.seed)


@keras.saving.register_keras_serializable(package="lean")
class SpecAugment(keras.layers.Layer):
    """Time and frequency masks on (batch, frames, bands) log-mels while training; the identity otherwise."""

    def __init__(self, time_masks=0, time_width=16, freq_masks=0, freq_width=8, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.time_masks, self.time_width = int(time_masks), int(time_width)
        self.freq_masks, self.freq_width = int(freq_masks), int(freq_width)
        self.seed = int(seed)
        self.generator = keras.random.SeedGenerator(self.seed)

    @classmethod
    def from_params(cls, params: LeanParams, name: str = "spec_augment") -> SpecAugment:
        return cls(params.spec_time_masks, params.spec_time_mask_frames, params.spec_freq_masks,
                   params.spec_freq_mask_bands, params.seed, name=name)

    def _masked(self, x, axis: int, masks: int, width: int):
        """True where any of `masks` bands, each 0..width wide at a uniform start, covers `axis`."""
        ops = keras.ops
        size = x.shape[axis]
        batch = ops.shape(x)[0]
        widths = ops.floor(keras.random.uniform((batch, masks), 0, width + 1, seed=self.generator))
        starts = ops.floor(keras.random.uniform((batch, masks), 0, 1, seed=self.generator) * (size - widths + 1))
        position = ops.cast(ops.arange(size), "float32")[None, None, :]
        inside = (position >= starts[..., None]) & (position < (starts + widths)[..., None])
        covered = ops.any(inside, axis=1)  # (batch, size)
        return ops.expand_dims(covered, 2 if axis == 1 else 1)

    def call(self, x, training=None):
        if not training:
            return x
        ops = keras.ops
        mask = ops.zeros_like(x, dtype="bool")
        if self.time_masks:
            mask = mask | self._masked(x, 1, self.time_masks, self.time_width)
        if self.freq_masks:
            mask = mask | self._masked(x, 2, self.freq_masks, self.freq_width)
        fill = ops.mean(x, axis=(1, 2), keepdims=True)
        return ops.where(mask, fill, x)

    def get_config(self):
        return {**super().get_config(), "time_masks": self.time_masks, "time_width": self.time_width,
                "freq_masks": self.freq_masks, "freq_width": self.freq_width, "seed": self.seed}
