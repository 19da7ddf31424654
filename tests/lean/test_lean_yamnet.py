"""Native YAMNet: exact size, front-end numbers, weights by layer order; the hub path on a local SavedModel."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from audioprep.errors import UsageError
from lean.model import build_model
from lean.yamnet import EMBEDDING_SIZE, embedding_model, yamnet, yamnet_embedder
from lean.yamnet_weights import load_yamnet_h5, save_yamnet_h5


@pytest.fixture(scope="module")
def native():
    keras.utils.set_random_seed(0)
    return yamnet()


def test_native_yamnet_has_the_published_size(native):
    assert native.count_params() == 3_751_369
    assert embedding_model(native).count_params() == 3_751_369 - (1024 * 521 + 521)
    scores, embeddings = native(np.zeros((2, 16000), np.float32))
    assert scores.shape == (2, 521) and embeddings.shape == (2, EMBEDDING_SIZE)
    assert np.all((np.asarray(scores) > 0) & (np.asarray(scores) < 1))


def test_front_end_puts_a_440_hz_sine_in_mel_band_8(native):
    # HTK mel: 125-7500 Hz over 64 bands puts 440 Hz (550 mel) at band 8 (centre ~437 Hz).
    t = np.arange(16000) / 16000
    sine = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    mel = np.asarray(native.get_layer("log_mel")(sine[None]))[0]
    assert mel.shape == (98, 64)
    profile = mel.mean(axis=0)
    assert int(np.argmax(profile)) == 8
    assert profile[8] - np.median(profile) > 8.0  # e-fold log units above the typical band
    silence = np.asarray(native.get_layer("log_mel")(np.zeros((1, 16000), np.float32)))
    np.testing.assert_allclose(silence, np.log(0.001), rtol=1e-6)


def test_yamnet_h5_weights_load_by_layer_order(native, tmp_path):
    path = save_yamnet_h5(native, tmp_path / "yamnet.h5")
    keras.utils.set_random_seed(1)
    other = yamnet()
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 16000)).astype(np.float32)
    # Untrained activations are tiny after 14 layers: compare relatively.
    assert not np.allclose(other(x)[1], native(x)[1], rtol=1e-3, atol=0)
    load_yamnet_h5(other, path)
    np.testing.assert_allclose(other(x)[1], native(x)[1], rtol=1e-5, atol=0)
    embedder = yamnet_embedder(path)
    np.testing.assert_allclose(embedder(x), native(x)[1], rtol=1e-5, atol=0)
    with pytest.raises(UsageError, match="expects shapes|holds weights"):
        load_yamnet_h5(other, save_yamnet_h5(build_model("yamnet_frozen", 3), tmp_path / "wrong.h5"))


class _HubLikeYamnet(tf.Module):
    """The hub signature in miniature: one 1-D waveform -> (scores, embeddings, log_mel) per patch."""

    def __init__(self):
        self.scale = tf.Variable(np.linspace(0.5, 1.5, EMBEDDING_SIZE, dtype=np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def __call__(self, waveform):
        halves = tf.stack([tf.reduce_mean(waveform[:8000]), tf.reduce_mean(waveform[8000:])])  # two "patches"
        embeddings = halves[:, None] * self.scale[None, :]
        scores = tf.sigmoid(embeddings[:, :521])
        log_mel = tf.zeros([96, 64]) + tf.reduce_max(waveform)
        return scores, embeddings, log_mel


def test_hub_path_batches_a_local_saved_model(tmp_path):
    module = _HubLikeYamnet()
    folder = tmp_path / "yamnet_savedmodel"
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.__call__.get_concrete_function()})
    embedder = yamnet_embedder(str(folder))
    x = np.stack([np.full(16000, v, np.float32) for v in (0.1, -0.2, 0.3)])
    x[2, 8000:] = 0.5
    got = np.asarray(embedder(x))
    scale = np.linspace(0.5, 1.5, EMBEDDING_SIZE, dtype=np.float32)
    expected = np.stack([0.1 * scale, -0.2 * scale, 0.4 * scale])  # mean of the two patch embeddings
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    model = build_model("lean", 4, embedder=embedder)
    assert model(x).shape == (3, 4)
    hub_weights = model.get_layer("yamnet_embedding").weights
    assert hub_weights and not any(w.trainable for w in hub_weights)
    with pytest.raises(UsageError):
        yamnet_embedder(str(tmp_path / "nothing_here"))
