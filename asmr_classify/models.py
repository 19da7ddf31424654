"""The classifiers, built by name: Lin 2024's Conv1D and DeepASMR's six trigger models (a)-(f).

Every model ends in a Dense layer named "embedding" (its penultimate representation, used for
t-SNE) followed by the softmax "probs". Mel and audio models start with a `Normalization` layer
named "normalize"; `adapt(model, x)` fits it to training inputs so that the saved model takes
raw log-mels (or raw audio) as they come from `audioprep.features`. Models come compiled with
sparse categorical cross-entropy and an "accuracy" metric.
"""

from __future__ import annotations

import keras
from keras import layers

from asmr_classify.params import DEFAULTS, model_kwargs
from asmr_training import loss_scale
from audioprep.errors import UsageError
from audioprep.params import MelSliceParams

NAMES = ("lin_conv1d", "dense_audio", "cnn2d", "cnn2d_x4", "cnn1d", "cnn1d_x4", "deepasmr")

# What each model reads: Lin's clip-mean MFCC vector, raw ~1 s audio, or a ~1 s log-mel slice.
INPUT_KIND = {"lin_conv1d": "mfcc", "dense_audio": "audio", "cnn2d": "mel", "cnn2d_x4": "mel",
              "cnn1d": "mel", "cnn1d_x4": "mel", "deepasmr": "mel"}

# Paper labels of DeepASMR's Table 1 rows.
PAPER_LABEL = {"dense_audio": "(a)", "cnn2d": "(b)", "cnn2d_x4": "(c)", "cnn1d": "(d)",
               "cnn1d_x4": "(e)", "deepasmr": "(f)"}


def default_input_shape(name: str) -> tuple[int, ...]:
    mel = MelSliceParams()
    return {"mfcc": (128, 1), "audio": (mel.slice_samples,), "mel": (mel.frames, mel.n_mels)}[INPUT_KIND[name]]


def _head(x, num_classes: int, units: int, activation: str, dropout: float):
    x = layers.Dense(units, activation=activation, name="embedding")(x)
    x = layers.Dropout(dropout)(x)
    return layers.Dense(num_classes, activation="softmax", name="probs")(x)


def _lin_conv1d(inp, num_classes, dropout, **_):
    """Figure 5: four 'same' Conv1D(k=5) blocks (BatchNorm after the first), Flatten, Dense(1024)."""
    x = inp
    for i, width in enumerate((256, 256, 128, 64)):
        x = layers.Conv1D(width, 5, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x) if i == 0 else layers.Dropout(dropout)(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    return _head(x, num_classes, 1024, "relu", dropout)


def _dense_audio(inp, num_classes, dense_units, dropout, activation, **_):
    """(a) one dense layer on the raw waveform (scaled by one adapted mean/variance)."""
    x = layers.Normalization(axis=None, name="normalize")(inp)
    return _head(x, num_classes, dense_units, activation, dropout)


def _conv2d_stack(inp, num_classes, n, filters, kernel_size, dense_units, dropout, activation, dense_activation):
    x = layers.Normalization(axis=-1, name="normalize")(inp)
    x = layers.Reshape((*inp.shape[1:], 1))(x)
    for i in range(n):
        x = layers.Conv2D(filters * (2 if i >= 2 else 1), kernel_size, padding="same", activation=activation)(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(dropout)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return _head(x, num_classes, dense_units, dense_activation, dropout)


def _conv1d_stack(inp, num_classes, n, filters, kernel_size, dense_units, dropout, activation, dense_activation):
    """1D convolutions over time with the mel bands as channels, as Abdoli et al. do for noise."""
    x = layers.Normalization(axis=-1, name="normalize")(inp)
    for i in range(n):
        x = layers.Conv1D(filters * (2 if i >= 2 else 1), kernel_size, padding="same", activation=activation)(x)
        x = layers.MaxPooling1D(2)(x)
        x = layers.Dropout(dropout)(x)
    x = layers.GlobalAveragePooling1D()(x)
    return _head(x, num_classes, dense_units, dense_activation, dropout)


def _conv(stack, n):
    def make(inp, num_classes, filters, kernel_size, dense_units, dropout, activation, dense_activation, **_):
        return stack(inp, num_classes, n, filters, kernel_size, dense_units, dropout, activation, dense_activation)

    return make


_BUILDERS = {
    "lin_conv1d": _lin_conv1d,
    "dense_audio": _dense_audio,
    "cnn2d": _conv(_conv2d_stack, 1),
    "cnn2d_x4": _conv(_conv2d_stack, 4),
    "cnn1d": _conv(_conv1d_stack, 1),
    "cnn1d_x4": _conv(_conv1d_stack, 4),
    "deepasmr": _conv(_conv1d_stack, 4),
}


def build(name: str, input_shape=None, num_classes: int | None = None, **params) -> keras.Model:
    """Build and compile model `name`; `params` override its `ClassifierParams` model fields.

    Defaults: the model's paper input shape, 2 classes for `lin_conv1d` (ASMR vs speech) and 9 for
    the DeepASMR models (the nine trigger labels).
    """
    if name not in _BUILDERS:
        raise UsageError(f"--model {name}: unknown model (choose from {', '.join(NAMES)})")
    base = model_kwargs(DEFAULTS[name])
    unknown = sorted(set(params) - set(base))
    if unknown:
        raise UsageError(f"{name}: build() takes no hyper-parameter(s) {', '.join(unknown)}")
    hp = {**base, **params}
    input_shape = tuple(input_shape or default_input_shape(name))
    num_classes = num_classes or (2 if name == "lin_conv1d" else 9)
    inp = keras.Input(input_shape, name="input")
    model = keras.Model(inp, _BUILDERS[name](inp, num_classes, **hp), name=name)
    optimizer = keras.optimizers.get({"class_name": hp["optimizer"], "config": {"learning_rate": hp["learning_rate"]}})
    model.compile(optimizer=loss_scale.for_model(model, optimizer), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def adapt(model: keras.Model, x) -> None:
    """Fit the model's input normalisation (if it has one) to training inputs `x`."""
    try:
        layer = model.get_layer("normalize")
    except ValueError:
        return
    layer.adapt(x)


def embedding_model(model: keras.Model) -> keras.Model:
    """The same network cut at its penultimate "embedding" layer."""
    return keras.Model(model.inputs, model.get_layer("embedding").output, name=f"{model.name}_embedding")
