"""audioprep.runs: resuming an interrupted fit loses and repeats no epoch."""

import csv

import keras
import numpy as np
import pytest

from audioprep.errors import BadFileError, UsageError
from audioprep.runs import RunDir, load_model, resolve_model


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
    run.write_params({"lr": 1e-3})
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
