"""A stand-in for YAMNet's AudioSet pretraining when no real weights or hub handle are available.

No hub is reachable here, so the native YAMNet is trained from scratch on the dev-train part of
the FSD50K layout (the generated corpus by default) with a temporary sigmoid head, and its weights
are cached in the official `yamnet.h5` layout under data/cache/lean/ and reused by every later
run with the same data and settings. Results built on it are not the paper's: the real YAMNet has
seen 2M AudioSet clips.
"""

from __future__ import annotations

from pathlib import Path

import keras

from asmr_training.run_dir import build_before_tracing
from audioprep.cache import settings_key
from audioprep.files import atomic_write
from audioprep.paths import data_root
from lean.data import LeanData, patch_dataset
from lean.params import LeanParams
from lean.yamnet import embedding_model, yamnet
from lean.yamnet_weights import STANDIN, YAMNET_TFLITE, save_yamnet_h5, weights_source

STANDIN_LEARNING_RATE = 1e-3  # from scratch, not fine-tuning: faster than the paper's 1e-4
STANDIN_RECIPE = 2  # part of the cache key: bump when the pretraining recipe changes


def recalibrate_batch_norm(net: keras.Model, batches, count: int = 16) -> None:
    """Set every batch norm's moving statistics to the average over `count` batches of the final weights.

    A short pretraining leaves the moving averages (momentum 0.99) far from the batch statistics the
    weights were trained with, and a frozen YAMNet runs on the moving averages.
    """
    norms = [layer for layer in net.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momentum = [bn.momentum for bn in norms]
    for i, (x, _) in enumerate(batches.take(count)):
        for bn in norms:
            bn.momentum = i / (i + 1)  # cumulative mean of the batch statistics
        net(x, training=True)
    for bn, m in zip(norms, momentum, strict=True):
        bn.momentum = m


STANDIN_NOTE = (
    "YAMNet weights: a stand-in pretrained here on the corpus's dev-train split (--yamnet standin), "
    "not Google's AudioSet YAMNet"
)
BUNDLED_NOTE = f"YAMNet weights: Google's AudioSet YAMNet ({YAMNET_TFLITE.parent.name}/{YAMNET_TFLITE.name}, bundled)"


def backbone(value, data: LeanData, params: LeanParams, pretrain_epochs: int, verbose: int = 1) -> tuple[str, str]:
    """The YAMNet weights a `--yamnet` value stands for, and the line every output names them by.

    No value: Google's real YAMNet shipped in asmr_audioset/assets. `standin`: the native YAMNet pretrained here on
    `data` (cached), the only choice before real weights shipped. Anything else: the file, folder or hub handle.
    """
    if value is None:
        return str(YAMNET_TFLITE), BUNDLED_NOTE
    if str(value) == STANDIN:
        return str(standin_yamnet(data, params, pretrain_epochs, verbose)), STANDIN_NOTE
    weights_source(value)  # a bad value is one line naming it, before any training
    return str(value), f"YAMNet weights: {value}"


def standin_path(data: LeanData, params: LeanParams, epochs: int) -> Path:
    digest = settings_key(
        [STANDIN_RECIPE, str(data.root.resolve()), len(data.splits["train"]), epochs, params.seed,
         params.max_patches_per_clip],
        length=12,
    )
    return data_root() / "cache" / "lean" / f"yamnet_standin_{digest}.h5"


def standin_yamnet(
    data: LeanData,
    params: LeanParams = LeanParams(),
    epochs: int = 10,
    verbose: int = 1,
) -> Path:
    """Path of cached stand-in YAMNet weights for `data`, training them first if missing."""
    path = standin_path(data, params, epochs)
    if path.exists():
        print(f"YAMNet stand-in: reusing {path}", flush=True)
        return path
    print(
        f"YAMNet stand-in: pretraining the native YAMNet on {data.root} dev-train "
        f"for {epochs} epochs (stand-in for AudioSet pretraining) -> {path}",
        flush=True,
    )
    keras.utils.set_random_seed(params.seed)
    net = yamnet(params)
    wave = keras.Input((params.patch_samples,), name="waveform")
    head = keras.layers.Dense(len(data.vocabulary), activation="sigmoid", name="standin_head")
    model = keras.Model(wave, head(embedding_model(net)(wave)))
    model.compile(optimizer=keras.optimizers.Adam(STANDIN_LEARNING_RATE), loss="binary_crossentropy")
    train = patch_dataset(data.splits["train"], params, shuffle=True)
    build_before_tracing(model, train)
    model.fit(train, epochs=epochs, verbose=verbose, shuffle=False)  # tf.data shuffles
    recalibrate_batch_norm(net, train)
    return atomic_write(path, lambda tmp: save_yamnet_h5(net, tmp))
