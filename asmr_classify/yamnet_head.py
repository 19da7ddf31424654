"""The YAMNet transfer family: Google's YAMNet, frozen, under a small Dense head, saved as one waveform model.

YAMNet (lean.yamnet: the native Keras network with the bundled real weights) turns a 0.975 s window at
16 kHz into a 1024-d embedding, and the head turns that into class probabilities. The head trains alone,
in seconds, on embeddings computed once (asmr_classify.embeddings); `waveform_model` then joins the two,
sharing the head's layers, and that is what a run saves: one window of raw audio in, probabilities out
(input kind "audio"), so predict, catalog, export and the app read it as any other classifier. Its layer
"embedding" is YAMNet's embedding, what the catalogue keeps for "more like this"; YAMNet's log-mel front
end (layer FRONT_END) stays float in an int8 export.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from asmr_classify.params import YamnetHeadParams
from audioprep.errors import UsageError
from audioprep.io import file_sha256
from lean.params import LeanParams
from lean.yamnet import EMBEDDING_SIZE, FRONT_END, yamnet_embedder
from lean.yamnet_weights import weights_source

NAME = "yamnet"
SAMPLE_RATE = 16000  # YAMNet's rate
WINDOW = 15600  # 0.975 s: one YAMNet patch of 96 log-mel frames
REPOSITORY = Path(__file__).resolve().parents[1]


def hop_samples(params: YamnetHeadParams) -> int:
    return int(round(params.hop_seconds * SAMPLE_RATE))


def embedder() -> keras.Model:
    """YAMNet cut at its embedding, with the bundled weights, frozen: (k, WINDOW) waveforms -> (k, 1024)."""
    model = yamnet_embedder(None, LeanParams(sample_rate=SAMPLE_RATE, patch_seconds=WINDOW / SAMPLE_RATE))
    model.trainable = False
    return model


@functools.cache
def weights() -> dict:
    """Which YAMNet weights the family runs, as params.json records them: the bundled file and its SHA-256."""
    path = Path(weights_source(None).location).resolve()
    shown = path.relative_to(REPOSITORY).as_posix() if path.is_relative_to(REPOSITORY) else path.name
    return {"weights": f"bundled {shown}", "sha256": file_sha256(path)}


def build_head(num_classes: int, params: YamnetHeadParams = YamnetHeadParams()) -> keras.Model:
    """The trainable part: (k, 1024) embeddings -> (k, num_classes) softmax probabilities."""
    inputs = keras.Input((EMBEDDING_SIZE,), name="yamnet_embedding")
    x = inputs
    if params.hidden_units:
        x = keras.layers.Dense(params.hidden_units, activation="relu", name="hidden",
                               kernel_regularizer=keras.regularizers.L2(params.l2 / 2))(x)
        x = keras.layers.Dropout(params.dropout, name="hidden_dropout")(x)
    probs = keras.layers.Dense(num_classes, activation="softmax", name="probs",
                               kernel_regularizer=keras.regularizers.L2(params.l2 / 2))(x)
    return keras.Model(inputs, probs, name="yamnet_head")


@dataclass(frozen=True)
class HeadFit:
    """How the head was fitted: by `solver` ("lbfgs" or "adam") in `steps` iterations or epochs, whether it
    `converged` (L-BFGS reached its tolerance; Adam was stopped by the validation loss before `epochs`), and
    for Adam its epochs (`history`, as history.csv holds them) and the one it kept."""

    solver: str
    steps: int
    converged: bool
    history: list = field(default_factory=list)
    best_epoch: int | None = None

    def describe(self) -> str:
        unit = "iterations" if self.solver == "lbfgs" else "epochs"
        kept = f", best epoch {self.best_epoch + 1}" if self.best_epoch is not None else ""
        state = "converged" if self.converged else "stopped at the limit (--epochs), not converged"
        return f"head: {self.solver} {state} after {self.steps} {unit}{kept}"


def fit_head(head: keras.Model, train, val, classes: list[str], params: YamnetHeadParams = YamnetHeadParams(),
             verbose="auto") -> HeadFit:
    """Fit `head` on `train` (a SliceSet of embeddings): L-BFGS for a softmax head, Adam with early stopping on
    `val` (the training loss without validation data) for one with a hidden layer."""
    if params.hidden_units:
        return _fit_adam(head, train, val, params, verbose)
    return _fit_lbfgs(head, train, classes, params)


def _fit_lbfgs(head: keras.Model, train, classes: list[str], params: YamnetHeadParams) -> HeadFit:
    """Multinomial logistic regression (scikit-learn's L-BFGS) on the embeddings, its weights put into `probs`."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    fit = LogisticRegression(C=1.0 / (params.l2 * len(train)), max_iter=params.epochs)
    # one BLAS thread: products this small only wait on a pool's threads (0.15 s on one, 11 s on a busy 2-core pool)
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(1):
        warnings.simplefilter("always", ConvergenceWarning)
        fit.fit(train.x, train.y)
    missing = [name for i, name in enumerate(classes) if i not in fit.classes_]
    if missing:
        raise UsageError(f"no training windows of {', '.join(missing)}: the head cannot learn a class it never sees")
    kernel, bias = fit.coef_.T, fit.intercept_
    if kernel.shape[1] == 1:  # two classes: scikit-learn's one logit z is the softmax of (0, z)
        kernel, bias = np.concatenate([np.zeros_like(kernel), kernel], axis=1), np.concatenate([[0.0], bias])
    head.get_layer("probs").set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return HeadFit("lbfgs", int(np.max(fit.n_iter_)), converged)


def _fit_adam(head: keras.Model, train, val, params: YamnetHeadParams, verbose) -> HeadFit:
    monitor = "val_loss" if len(val) else "loss"
    head.compile(optimizer=keras.optimizers.Adam(params.learning_rate), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor=monitor, patience=params.patience, restore_best_weights=True)
    logs = head.fit(train.x, train.y, batch_size=params.batch_size, epochs=params.epochs, shuffle=True,
                    validation_data=(val.x, val.y) if len(val) else None, callbacks=[stop] if params.patience else [],
                    verbose=0 if verbose == 0 else 2).history
    history = [{"epoch": i, **{name: float(values[i]) for name, values in logs.items()}}
               for i in range(len(logs[monitor]))]
    if not params.patience:  # no early stopping: every epoch run, the last kept
        return HeadFit("adam", len(history), False, history, len(history) - 1)
    return HeadFit("adam", len(history), stop.stopped_epoch > 0, history, int(stop.best_epoch))


def split_scores(head: keras.Model, split, prefix: str = "") -> dict:
    """Mean cross-entropy and accuracy of the head on a SliceSet of embeddings ({} when it is empty), named
    as Keras names its logs (`prefix` "val_" for the validation split)."""
    if not len(split):
        return {}
    probs = np.asarray(head.predict_on_batch(split.x), np.float64)
    right = probs[np.arange(len(split)), split.y]
    return {f"{prefix}loss": float(-np.mean(np.log(np.maximum(right, 1e-12)))),
            f"{prefix}accuracy": float(np.mean(probs.argmax(axis=1) == split.y))}


def waveform_model(embed: keras.Model, head: keras.Model, name: str = NAME) -> keras.Model:
    """YAMNet then the head (its layers shared, not copied): (k, WINDOW) waveforms -> (k, classes)."""
    wave = keras.Input((WINDOW,), name="waveform")
    x = keras.layers.Identity(name="embedding")(embed(wave))
    for layer in head.layers[1:]:
        x = layer(x)
    return keras.Model(wave, x, name=name)


def has_yamnet_front_end(model) -> bool:
    """Whether a classifier holds YAMNet's log-mel layer (an int8 export then keeps FRONT_END float)."""
    return any(layer.name == FRONT_END for layer in getattr(model, "_flatten_layers", lambda: [])())

