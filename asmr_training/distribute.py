"""One switch for where every trainer runs: one device, all devices of one machine, or several machines.

`--strategy default` is the single-process path every trainer had before (nothing changes);
`mirrored` is `tf.distribute.MirroredStrategy` over the machine's GPUs (else its logical CPU
devices) with Keras `fit`; `multiworker` is `tf.distribute.MultiWorkerMirroredStrategy` over the
cluster in `TF_CONFIG`. Keras 3 `fit` fails under `multiworker` (keras-team/keras#20585), so that
path runs the model's own `train_step` in `strategy.run` from a short loop here that drives the
same callbacks (the run folder's checkpoint among them).

`--batch-size` stays the global batch under every strategy, so results do not depend on it: each
of the R replicas computes one R-th of every batch. Under `multiworker` every worker draws the same
global batch (the order is a function of (seed, epoch), `asmr_training.batches`) and reads only its
replicas' rows; validation runs whole on every worker, so all of them see the same validation logs
(the same early stop, the same best epoch). Only the chief writes the run folder (`RunDir(chief=)`),
which must be one folder every worker reads (shared storage): a resumed worker restores from it.

`--mixed-precision` builds the model under Keras's `mixed_float16` policy with its output layers in
float32; `compile` then wraps the optimizer in a `LossScaleOptimizer` (dynamic loss scaling).
This module imports TensorFlow only when a strategy is made, so parsers can add its flags cheaply.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from dataclasses import dataclass

from audioprep.errors import UsageError

STRATEGIES = ("default", "mirrored", "multiworker")
LOST_WORKER = "multiworker: a worker stopped or cannot be reached ({reason}); restart every worker with --resume"


@dataclass(frozen=True)
class DistributeParams:
    """Where training runs; `--strategy` and `--mixed-precision`."""

    strategy: str = "default"
    mixed_precision: bool = False


def add_arguments(parser) -> None:
    """The two flags every `train` takes."""
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="default: one device; mirrored: every GPU of this machine (else its logical CPU "
                             "devices); multiworker: the machines in TF_CONFIG (see docs/distribute.md)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="compute in float16 (Keras mixed_float16, float32 outputs, loss scaling)")


@functools.cache
def distribution(params: DistributeParams = DistributeParams()) -> Distribution:
    """This process's Distribution for `params`, made once: a multi-worker strategy cannot be made twice in a
    process, and every run of a process (a test's, an experiment's) then shares one."""
    return Distribution(params)


def check_tf_config(value: str | None) -> dict:
    """The cluster of a `multiworker` run, checked: one error line instead of a hang on a bad TF_CONFIG."""
    if not value:
        raise UsageError("--strategy multiworker: set TF_CONFIG to the cluster and this worker's task "
                         "(docs/distribute.md)")
    try:
        config = json.loads(value)
        workers = config["cluster"]["worker"]
        task = config["task"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"TF_CONFIG: not a cluster spec with a task ({type(err).__name__}: {err})") from None
    if set(config["cluster"]) != {"worker"}:
        raise UsageError(f"TF_CONFIG: list the machines as 'worker' tasks only (worker 0 is the chief), "
                         f"not {sorted(config['cluster'])}")
    members = config["cluster"].get(kind)
    if not isinstance(workers, list) or not workers or not isinstance(members, list) or not 0 <= index < len(members):
        raise UsageError(f"TF_CONFIG: task {kind} {index} is not in the cluster {config['cluster']}")
    return config


class Distribution:
    """The strategy of one training process, with what the trainers need from it."""

    def __init__(self, params: DistributeParams = DistributeParams()):
        import tensorflow as tf

        if params.strategy not in STRATEGIES:
            raise UsageError(f"--strategy {params.strategy}: pick one of {', '.join(STRATEGIES)}")
        self.params = params
        if params.strategy == "multiworker":
            check_tf_config(os.environ.get("TF_CONFIG"))
            self.strategy = tf.distribute.MultiWorkerMirroredStrategy()
        elif params.strategy == "mirrored":
            devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
            self.strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        else:
            self.strategy = tf.distribute.get_strategy()

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    @property
    def workers(self) -> tuple[int, int]:
        """(how many worker processes, this one's index): (1, 0) but under `multiworker`."""
        resolver = getattr(self.strategy, "cluster_resolver", None)
        if resolver is None or not resolver.cluster_spec().as_dict():
            return 1, 0
        return resolver.cluster_spec().num_tasks("worker"), int(resolver.task_id)

    @property
    def chief(self) -> bool:
        """Whether this process writes the run folder (the only process, or the cluster's chief)."""
        return bool(self.strategy.extended.should_checkpoint)

    def check_batch(self, batch_size: int, flag: str = "--batch-size") -> int:
        """The rows each replica computes of a global batch; every replica must get the same number."""
        if batch_size % self.replicas:
            raise UsageError(f"{flag} {batch_size}: must be a multiple of the {self.replicas} replicas "
                             f"of --strategy {self.params.strategy}")
        return batch_size // self.replicas

    def describe(self, batch_size: int) -> dict:
        """What params.json records about the run's distribution."""
        return {"strategy": self.params.strategy, "replicas": self.replicas, "global_batch": batch_size,
                "per_replica_batch": self.check_batch(batch_size), "mixed_precision": self.params.mixed_precision}

    @contextlib.contextmanager
    def policy(self):
        """The mixed policy while layers are made (a loaded mixed model gets its loss-scale optimizer back)."""
        import keras

        before = keras.mixed_precision.global_policy()
        if self.params.mixed_precision:
            keras.mixed_precision.set_global_policy("mixed_float16")
        try:
            yield
        finally:
            keras.mixed_precision.set_global_policy(before)

    @contextlib.contextmanager
    def scope(self):
        """The strategy's scope with the policy. Under `multiworker` every variable made in it is a collective
        (the chief's initial value is broadcast), so every worker must make the same models in the same order."""
        with self.policy(), self.strategy.scope():
            yield

    def build(self, make):
        """`make()` (build and compile a model) in the scope; under mixed precision its outputs come out float32."""
        with self.scope():
            model = make()
        if self.params.mixed_precision:
            float32_outputs(model)
        return model

    def fit(self, run, model, train, epochs: int, validation_data=None, callbacks=(), verbose="auto"):
        """`run.fit`: Keras `fit`, or under `multiworker` the loop below; returns the trained model. `verbose="auto"`
        draws progress bars on a terminal only (a line per epoch in a file or pipe, nothing with --quiet)."""
        import tensorflow as tf

        from audioprep.console import progress_verbose

        if verbose == "auto":
            verbose = progress_verbose()

        if self.params.strategy != "multiworker":
            with self.scope():
                return run.fit(model, train, epochs, validation_data=validation_data, callbacks=callbacks,
                               verbose=verbose)
        try:  # the loop runs outside the scope: a variable made in it only on the chief would hang the others
            return run.fit(model, train, epochs, validation_data=validation_data, callbacks=callbacks,
                           trainer=_multiworker_fit(self.strategy), restore_scope=self.scope, verbose=verbose)
        except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
                tf.errors.AbortedError, tf.errors.InternalError) as err:
            reason = " ".join(str(err.message).split())[:160]
            raise UsageError(LOST_WORKER.format(reason=reason)) from None


def float32_outputs(model) -> None:
    """Make the layers that produce a functional model's outputs compute in float32 (stable losses, float32 scores);
    a subclassed model's are those of the functional models it holds (the mel generators' encoder, decoder, ...)."""
    nets = [model] if getattr(model, "outputs", None) else [n for n in model.layers if getattr(n, "outputs", None)]
    if not nets:
        raise UsageError(f"--mixed-precision: {model.name} is not a functional model; its outputs cannot be kept float32")
    for net in nets:
        for tensor in net.outputs:
            tensor._keras_history.operation.dtype_policy = "float32"


def replica_values(strategy, part, replicas: int | None = None):
    """`part(r)` (numpy arrays) as the input of replica r (of `replicas`, default all) for `strategy.run`; each
    worker makes only its own replicas' parts."""
    import tensorflow as tf

    replicas = replicas or strategy.num_replicas_in_sync
    return strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.nest.map_structure(tf.convert_to_tensor, part(ctx.replica_id_in_sync_group % replicas)))


def replica_rows(strategy, rows, load, replicas: int | None = None):
    """The rows of one global batch split into one part per replica (of `replicas`, default all), each loaded by
    `load(rows)` for `strategy.run` (this worker's parts only); None when the batch has fewer rows than replicas."""
    import numpy as np

    replicas = replicas or strategy.num_replicas_in_sync
    if len(rows) < replicas:
        return None
    parts = np.array_split(rows, replicas)
    return replica_values(strategy, lambda r: load(parts[r]), replicas)


def replica_step(strategy, fn):
    """One traced step: `fn(batch)` on every replica's part of a distributed batch (`replica_values`), each of
    its outputs averaged over the replicas."""
    import tensorflow as tf

    def step(batch):
        outputs = strategy.run(fn, args=(batch,))
        return tf.nest.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), outputs)

    return tf.function(step, reduce_retracing=True)


def _multiworker_fit(strategy):
    """A `model.fit` stand-in for RunDir.fit under `multiworker`."""

    def fit(model, train, epochs: int, initial_epoch: int = 0, validation_data=None, callbacks=(), verbose="auto",
            shuffle: bool = False):
        _MultiWorkerLoop(strategy, model).fit(train, initial_epoch, epochs, validation_data, list(callbacks), verbose)

    return fit


class _MultiWorkerLoop:
    """Keras's `train_step` in `strategy.run` over each worker's rows of the global batch, with Keras callbacks."""

    def __init__(self, strategy, model):
        import tensorflow as tf

        self.strategy, self.model = strategy, model
        self.step = replica_step(strategy, model.train_step)
        self.test_step = tf.function(model.test_step, reduce_retracing=True)

    def replica_batches(self, data, index: int):
        """Batch `index` split into one part per replica (this worker's parts only); None if it has too few rows."""
        import keras
        import numpy as np

        from asmr_training.batches import ShuffledBatches

        replicas = self.strategy.num_replicas_in_sync
        if getattr(data, "per_worker", False):  # a worker's own share already (lean.shards): split it locally
            replicas = len(self.strategy.extended.worker_devices)
        if type(data) is ShuffledBatches:  # read only this worker's rows
            rows = data.order(data.epoch)[index * data.batch_size : (index + 1) * data.batch_size]
            return replica_rows(self.strategy, rows, data.load, replicas)
        batch = data[index]
        rows = np.arange(len(keras.tree.flatten(batch)[0]))
        return replica_rows(self.strategy, rows, lambda part: keras.tree.map_structure(lambda a: np.asarray(a)[part], batch),
                            replicas)

    def evaluate(self, data) -> dict:
        """Validation logs over all of `data` on this worker (every worker computes the same)."""
        import keras

        self.model.reset_metrics()
        logs = {}
        batches = (data[i] for i in range(len(data))) if isinstance(data, keras.utils.PyDataset) else data
        for batch in batches:
            logs = self.test_step(batch)
        return {f"val_{k}": float(v) for k, v in logs.items()}

    def fit(self, train, initial_epoch: int, epochs: int, validation_data, callbacks, verbose) -> None:
        import keras

        model, steps = self.model, len(train)
        progress = verbose not in (0, "0")
        hooks = keras.callbacks.CallbackList(callbacks, add_history=True, add_progbar=progress, model=model,
                                             verbose=1 if verbose == "auto" else verbose, epochs=epochs, steps=steps)
        model.stop_training = False
        hooks.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            model.reset_metrics()
            hooks.on_epoch_begin(epoch)
            logs = {}
            for index in range(steps):
                batch = self.replica_batches(train, index)
                if batch is None:
                    continue
                hooks.on_train_batch_begin(index)
                logs = {k: float(v) for k, v in self.step(batch).items()}
                hooks.on_train_batch_end(index, logs)
            if hasattr(train, "on_epoch_end"):
                train.on_epoch_end()
            if validation_data is not None:
                logs.update(self.evaluate(validation_data))
            hooks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        hooks.on_train_end()
