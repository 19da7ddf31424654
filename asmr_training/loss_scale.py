"""Dynamic loss scaling that skips a step on every replica when any replica's gradients overflow.

Keras 3's `LossScaleOptimizer` decides from the gradients it is handed, on the TensorFlow backend
from the first replica's only (its comment assumes they were all-reduced already; Keras's
`train_step` hands each replica its own). A float16 overflow on another replica then reaches the
summed update (a mirrored mixed-precision VAE went to NaN in its first epoch) instead of halving
the scale. This subclass makes every replica's gradients non-finite when any replica's are, so
all of them skip the step together; on one replica it is Keras's optimizer unchanged.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="audioprep")
class ReplicaLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """`keras.optimizers.LossScaleOptimizer` whose overflow check covers every replica in sync."""

    def apply(self, grads, trainable_variables=None):
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            finite = tf.cast(self.check_finite(grads), "float32")
            everywhere = ctx.all_reduce("SUM", 1.0 - finite) == 0
            poison = tf.where(everywhere, 1.0, float("nan"))
            grads = [None if g is None else g * tf.cast(poison, g.dtype) for g in grads]
        return super().apply(grads, trainable_variables)


def for_model(model, optimizer):
    """The optimizer to compile `model` with: wrapped in this scaling where Keras's `compile` would wrap it in its
    own (a mixed_float16 model), else as it is. A saved model records the wrapper, so a resumed run keeps it."""
    return ReplicaLossScaleOptimizer(optimizer) if model.dtype_policy.name == "mixed_float16" else optimizer
