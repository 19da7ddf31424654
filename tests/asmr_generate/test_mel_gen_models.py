"""DeepASMR generators on tiny inputs: shapes, losses, KL and reparameterisation, blends, saving, collapse."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from asmr_generate.mel import collapse
from asmr_generate.mel import models as mm
from asmr_generate.mel.params import AEParams, CGANParams, VAEParams

FRAMES = N_MELS = 64
CLASSES = ["brushing the microphone", "fingernail tapping", "mukbang"]


@pytest.fixture(scope="module")
def x():
    rng = np.random.default_rng(0)
    return rng.normal(-6.0, 2.0, (12, FRAMES, N_MELS)).astype(np.float32)


def _vae(x, **kw):
    keras.utils.set_random_seed(0)
    return mm.build("vae", VAEParams(filters=4, latent_dim=8, **kw), FRAMES, N_MELS, *mm.mel_range(x))


def _conv_layers(model, kinds=(keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def test_mel_range_maps_data_into_unit_interval(x):
    low, high = mm.mel_range(x)
    model = mm.build("ae", AEParams(filters=4, latent_dim=8), FRAMES, N_MELS, low, high)
    unit = np.asarray(model.to_unit(x))
    assert unit.min() == 0.0 and unit.max() == 1.0
    np.testing.assert_allclose(np.asarray(model.from_unit(model.to_unit(x[:1] * 0 + low + 1.0))), low + 1.0, rtol=1e-5)


@pytest.mark.parametrize("depth", [4, 5, 6])
def test_autoencoder_shapes_and_decoder_depth(x, depth):
    keras.utils.set_random_seed(0)
    model = mm.build("ae", AEParams(filters=4, latent_dim=8, decoder_depth=depth), FRAMES, N_MELS, *mm.mel_range(x))
    assert model.encode(x).shape == (12, 8)
    assert np.asarray(model(x)).shape == (12, FRAMES, N_MELS)
    assert len(_conv_layers(model.decoder)) == depth
    assert len(_conv_layers(model.encoder)) == 4  # the (f) classifier's four Conv1D layers
    assert model.decoder.layers[-1].activation.__name__ == "sigmoid"


def test_default_encoder_has_the_f_classifiers_convolutions():
    from asmr_classify.models import build as build_classifier

    classifier = build_classifier("deepasmr", input_shape=(FRAMES, N_MELS), num_classes=9)
    enc = mm.build_encoder(AEParams(), FRAMES, N_MELS, variational=True)
    spec = [(c.filters, c.kernel_size, c.activation.__name__) for c in _conv_layers(classifier)]
    assert [(c.filters, c.kernel_size, c.activation.__name__) for c in _conv_layers(enc)] == spec
    assert (VAEParams().latent_dim, VAEParams().decoder_depth) == (256, 5)


def test_reconstruction_loss_is_summed_bce():
    half = tf.fill((2, FRAMES, N_MELS), 0.5)
    assert float(mm.reconstruction_loss(half, half)) == pytest.approx(FRAMES * N_MELS * math.log(2), rel=1e-4)
    ones = tf.ones((1, FRAMES, N_MELS))
    assert float(mm.reconstruction_loss(ones, ones * 0.999)) < 5.0


def test_kl_per_dimension_matches_closed_form():
    assert np.allclose(mm.kl_per_dimension(tf.zeros(4), tf.zeros(4)), 0.0)
    mu, lv = np.array([1.0, -2.0, 0.0]), np.array([0.0, 0.0, math.log(4.0)])
    expected = [0.5, 2.0, 0.5 * (4 - 1 - math.log(4))]
    np.testing.assert_allclose(mm.kl_per_dimension(tf.constant(mu), tf.constant(lv)), expected, rtol=1e-6)


def test_vae_loss_is_weighted_recon_plus_beta_times_free_bits_kl(x):
    model = _vae(x, free_bits=0.5, recon_weight=0.5)
    model.beta.assign(0.25)
    loss, logs = model._loss_terms(tf.constant(x), training=False)
    mean, log_var = model.posterior(x)
    kl_dims = (0.5 * (np.exp(log_var) + mean**2 - 1 - log_var)).mean(0)
    assert float(loss - 0.5 * logs["recon"]) == pytest.approx(0.25 * np.maximum(kl_dims, 0.5).sum(), rel=1e-4)
    assert float(logs["kl"]) == pytest.approx(kl_dims.sum(), rel=1e-4)
    assert float(logs["elbo"]) == pytest.approx(float(logs["recon"] + logs["kl"]), rel=1e-6)


def test_reparameterisation_is_seeded_and_has_the_posterior_moments(x):
    model = _vae(x)
    a, b = model.latent_samples(x[:2], 3, seed=7), model.latent_samples(x[:2], 3, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, model.latent_samples(x[:2], 3, seed=8))
    mean, log_var = model.posterior(x[:1])
    draws = model.latent_samples(x[:1], 4000, seed=0)[0]
    np.testing.assert_allclose(draws.mean(0), mean[0], atol=0.1)
    np.testing.assert_allclose(draws.std(0), np.exp(0.5 * log_var[0]), rtol=0.1)
    assert model.vary(x[:2], 3, seed=1).shape == (2, 3, FRAMES, N_MELS)


def test_kl_warmup_schedule():
    warm = mm.KLWarmup(1.0, 4)
    assert [warm.value(e) for e in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert mm.KLWarmup(0.5, 0).value(0) == 0.5


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_blend_endpoints_are_the_inputs_decodings(x, name):
    keras.utils.set_random_seed(0)
    model = mm.build(name, VAEParams(filters=4, latent_dim=8) if name == "vae" else AEParams(filters=4, latent_dim=8),
                     FRAMES, N_MELS, *mm.mel_range(x))
    path = model.blend(x[0], x[1], [0.0, 0.5, 1.0])
    assert path.shape == (3, FRAMES, N_MELS)
    np.testing.assert_allclose(path[0], model.decode(model.encode(x[:1]))[0], atol=1e-5)
    np.testing.assert_allclose(path[2], model.decode(model.encode(x[1:2]))[0], atol=1e-5)
    assert not np.allclose(path[1], path[0])


def test_vae_trains_saves_and_reloads_with_optimizer_state(x, tmp_path):
    model = _vae(x)
    history = model.fit(x, batch_size=6, epochs=2, verbose=0, callbacks=[mm.KLWarmup(1.0, 2)])
    assert set(history.history) == {"loss", "recon", "kl", "elbo"}
    assert history.history["loss"][1] < history.history["loss"][0]
    model.save(tmp_path / "vae.keras")
    again = keras.models.load_model(tmp_path / "vae.keras")
    np.testing.assert_allclose(again.encode(x[:2]), model.encode(x[:2]), atol=1e-6)
    assert int(again.optimizer.iterations) == 4


def test_cgan_layout_shapes_and_loss(x, tmp_path):
    keras.utils.set_random_seed(0)
    low, high = mm.mel_range(x)
    gan = mm.build("cgan", CGANParams(filters=8, noise_dim=16, embedding_dim=8), FRAMES, N_MELS, low, high,
                   classes=CLASSES)
    convs_g, convs_d = _conv_layers(gan.generator), _conv_layers(gan.discriminator)
    assert len(convs_g) == len(convs_d) == 4
    assert any(isinstance(layer, keras.layers.LeakyReLU) for layer in gan.generator.layers)
    assert convs_g[-1].activation.__name__ == "sigmoid"
    assert all(c.activation.__name__ == "tanh" for c in convs_d)
    assert gan.discriminator.layers[-1].activation.__name__ == "sigmoid"

    samples = gan.sample("mukbang", 5, seed=3)
    assert samples.shape == (5, FRAMES, N_MELS) and samples.min() >= low - 1e-4 and samples.max() <= high + 1e-4
    p = np.asarray(gan.discriminator([gan.to_unit(x[:4]), tf.zeros(4, "int32")]))
    assert p.shape == (4, 1) and np.all((p > 0) & (p < 1))
    d_loss, g_loss, *_ = gan.train_batch(tf.constant(x[:6]), tf.constant([0, 1, 2, 0, 1, 2], "int32"))
    assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))

    mixed = gan.label_vectors(["fingernail tapping", "brushing the microphone"]).mean(0, keepdims=True)
    blend = gan.sample("fingernail tapping", 2, blend_with="brushing the microphone", seed=4)
    np.testing.assert_allclose(blend, gan.generate(np.repeat(mixed, 2, 0), seed=4), atol=1e-5)

    gan.save(tmp_path / "gan.keras")
    again = keras.models.load_model(tmp_path / "gan.keras")
    np.testing.assert_allclose(again.sample("mukbang", 5, seed=3), gan.sample("mukbang", 5, seed=3), atol=1e-5)
    assert again.classes == CLASSES and int(again.g_optimizer.iterations) == 1 == int(again.d_optimizer.iterations)


def test_collapse_diagnostic_sees_a_collapsed_encoder(x):
    model = _vae(x)
    healthy = collapse.diagnose(model, x)
    assert healthy.latent_dim == 8 and len(healthy.kl_per_dim) == 8
    for name in ("z_mean", "z_log_var"):
        layer = model.encoder.get_layer(name)
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    collapsed = collapse.diagnose(model, x)
    assert collapsed.active_units == 0 and collapsed.kl_total == pytest.approx(0.0, abs=1e-6)
    assert collapsed.output_diversity == pytest.approx(0.0, abs=1e-6)
    assert healthy.output_diversity > 0
