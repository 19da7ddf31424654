"""asmr_training.run_dir: resuming an interrupted fit loses and repeats no epoch; a fit traces its train step once."""

import csv

import keras
import numpy as np
import pytest

from asmr_training.batches import ShuffledBatches
from asmr_training.model_files import load_model, resolve_model
from asmr_training.run_dir import RunDir, build_before_tracing
from audioprep.errors import BadFileError, UsageError


class StopAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_resume_continues_at_the_next_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)).astype("float32"), rng.integers(0, 2, 32)
    run = RunDir(tmp_path / "run", monitor="val_loss")
    with pytest.raises(KeyboardInterrupt):
        run.fit(tiny_model(), x, epochs=5, y=y, validation_data=(x, y), verbose=0, callbacks=[StopAfter(1)])
    with pytest.raises(UsageError, match="--resume"):
        RunDir(tmp_path / "run")
    resumed = RunDir(tmp_path / "run", resume=True, monitor="val_loss")
    assert resumed.initial_epoch == 2
    model = resumed.fit(tiny_model(), x, epochs=5, y=y, validation_data=(x, y), verbose=0)
    with (tmp_path / "run" / "history.csv").open() as fh:
        epochs = [r["epoch"] for r in csv.DictReader(fh)]
    assert epochs == ["0", "1", "2", "3", "4"]
    assert model.optimizer.iterations.numpy() == 5
    best = load_model(tmp_path / "run")
    assert resolve_model(tmp_path / "run").name == "best.keras"
    assert best.count_params() == 10


def test_model_paths_fail_with_the_name(tmp_path):
    with pytest.raises(UsageError, match="nothing"):
        resolve_model(tmp_path / "nothing")
    bad = tmp_path / "bad.keras"
    bad.write_text("not a model")
    with pytest.raises(BadFileError, match=f"^{bad}: truncated or not a Keras model \\(11 bytes, not a .keras zip"):
        load_model(bad)


class CountedSteps(keras.Sequential):
    """A Sequential that counts the traces of its train step (each trace calls the Python method once)."""

    traces = 0

    def train_step(self, data):
        self.traces += 1
        return super().train_step(data)


@pytest.mark.parametrize("kind", ["arrays", "pydataset", "tf.data"])
def test_a_fit_traces_its_train_step_once(kind, tmp_path):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 4)).astype("float32"), rng.integers(0, 2, 20)
    labels = {"y": y} if kind == "arrays" else {}

    def fitted(build: bool) -> CountedSteps:
        keras.utils.set_random_seed(0)
        data = {"arrays": lambda: x, "pydataset": lambda: ShuffledBatches(20, 8, lambda i: (x[i], y[i])),
                "tf.data": lambda: tf.data.Dataset.from_tensor_slices((x, y)).shuffle(20, seed=0).batch(8)}[kind]()
        model = CountedSteps([keras.Input((4,)), keras.layers.Dropout(0.2), keras.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        if build:
            build_before_tracing(model, data, labels.get("y"))
        model.fit(data, epochs=2, batch_size=8, shuffle=False, verbose=0, **labels)
        return model

    plain, built = fitted(False), fitted(True)
    assert (plain.traces, built.traces) == (2, 1)  # Keras's own path makes the optimizer in a first trace
    for a, b in zip(plain.get_weights(), built.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_run_fit_builds_before_tracing(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 4)).astype("float32"), rng.integers(0, 2, 20)
    keras.utils.set_random_seed(0)
    model = CountedSteps([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    RunDir(tmp_path / "run").fit(model, ShuffledBatches(20, 8, lambda i: (x[i], y[i])), epochs=2, verbose=0)
    assert model.traces == 1


def test_a_piped_fit_prints_a_line_per_epoch_not_bars(tmp_path, capsys):
    from asmr_training.distribute import Distribution

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)).astype("float32"), rng.integers(0, 2, 32)
    run = RunDir(tmp_path / "run", monitor="val_loss")
    # pytest captures stdout and stderr, as a pipe or a file would: no terminal, so no progress bars
    Distribution().fit(run, tiny_model(), ShuffledBatches(32, 8, lambda i: (x[i], y[i])), 2, validation_data=(x, y))
    out = capsys.readouterr().out
    epoch_lines = [line for line in out.splitlines() if "val_loss" in line]
    assert len(epoch_lines) == 2 and "\r" not in out and "\x1b[" not in out and "━" not in out
