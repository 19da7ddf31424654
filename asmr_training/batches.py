"""Training batches whose order is a function of (seed, epoch), so a resumed run sees what an uninterrupted one would.

A `tf.data` shuffle draws each epoch's order from a generator that restarts with the pipeline, so a
run resumed at epoch k would see epoch 0's order again. Here epoch e's order is a permutation drawn
from `numpy.random.default_rng([seed, e])`. `asmr_training.run_dir.RunDir.fit` sets `epoch` as each epoch
begins (Keras's own count of `on_epoch_end` calls starts one ahead) and turns Keras's batch
shuffle off (it draws from Python's global generator).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np


class ShuffledBatches(keras.utils.PyDataset):
    """`load(indices)` of `count` examples in batches of `batch_size`, reshuffled per (seed, epoch)."""

    def __init__(self, count: int, batch_size: int, load: Callable[[np.ndarray], object], seed: int = 0):
        super().__init__()
        self.count, self.batch_size, self.load, self.seed = count, batch_size, load, seed
        self.epoch = 0
        self._order = (None, None)

    def __len__(self) -> int:
        return -(-self.count // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        if self._order[0] != epoch:
            self._order = (epoch, np.random.default_rng([self.seed, epoch]).permutation(self.count))
        return self._order[1]

    def __getitem__(self, index: int):
        return self.load(self.order(self.epoch)[index * self.batch_size : (index + 1) * self.batch_size])
