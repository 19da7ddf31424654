"""DeepASMR's generators on (frames, n_mels) log-mel slices: autoencoder, VAE and conditional GAN.

Every model takes and returns log-mels; inside, the nets work on [0, 1] (the sigmoid outputs'
range) through an affine map fixed from the training data's 0.1 / 99.9 percentiles and stored in
the model's config, so a saved `.keras` file is all `vary` / `blend` / `sample` need.
The GAN keeps both nets and both optimisers in one saved model, so `--resume` restores all four.

The training steps run per replica under any `tf.distribute` strategy (asmr_training.distribute) and give the
numbers of one device for the same global batch: each replica's loss counts 1/R (the optimizer sums the
replicas' gradients), batch statistics (the VAE's free-bits KL, the generator's batch norm) are taken over
the whole global batch, and each replica draws its own rows of the global batch's noise. Under mixed
precision the optimizers scale the loss (`asmr_training.loss_scale`: an overflow on any replica skips the step).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from asmr_generate import SERIALIZATION_PACKAGE
from asmr_generate.mel.params import AEParams, CGANParams, VAEParams
from asmr_training import loss_scale


def mel_range(x: np.ndarray) -> tuple[float, float]:
    """(low, high) log-mel values mapped to 0 and 1: the data's 0.1th and 99.9th percentiles."""
    low, high = np.percentile(np.asarray(x, dtype=np.float32), [0.1, 99.9])
    return float(low), float(max(high, low + 1e-3))


class _MelScaled(keras.Model):
    """Shared log-mel <-> [0, 1] mapping and (de)serialisation of sub-networks."""

    def __init__(self, mel_low: float, mel_high: float, **kwargs):
        super().__init__(**kwargs)
        self.mel_low, self.mel_high = float(mel_low), float(mel_high)

    def to_unit(self, log_mels):
        return tf.clip_by_value((tf.cast(log_mels, "float32") - self.mel_low) / (self.mel_high - self.mel_low), 0.0, 1.0)

    def from_unit(self, unit):
        return unit * (self.mel_high - self.mel_low) + self.mel_low

    def get_config(self):
        return {**super().get_config(), "mel_low": self.mel_low, "mel_high": self.mel_high}


def replica_share(loss):
    """This replica's part of the global batch's mean loss (`tf.nn.compute_average_loss`): the optimizer sums
    the R replicas' gradients, so each replica's own batch mean counts 1/R."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def replica_mean(value):
    """`value`'s mean over the replicas in sync: a batch statistic of the whole global batch, whose gradient
    flows back to every replica."""
    ctx = tf.distribute.get_replica_context()
    return value if ctx is None or ctx.num_replicas_in_sync == 1 else ctx.all_reduce("MEAN", value)


def replica_normal(shape, seed_generator):
    """Standard normal noise of `shape` for this replica's rows of the global batch: each replica draws the whole
    batch's noise from the shared generator state and keeps its own rows, so no two replicas get the same noise
    and the numbers are those of one device."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return keras.random.normal(shape, seed=seed_generator)
    shape = tf.convert_to_tensor(shape)
    rows = shape[0]
    whole = keras.random.normal(tf.concat([[rows * ctx.num_replicas_in_sync], shape[1:]], 0), seed=seed_generator)
    start = ctx.replica_id_in_sync_group * rows
    return tf.reshape(whole[start : start + rows], shape)


# --------------------------------------------------------------------------- AE / VAE


def build_encoder(p: AEParams, frames: int, n_mels: int, variational: bool) -> keras.Model:
    """(f)'s four Conv1D(ELU) + MaxPool blocks over time (widths x1, x1, x2, x2), flattened to the latent."""
    inp = keras.Input((frames, n_mels), name="unit_mel")
    x = inp
    for i in range(4):
        x = layers.Conv1D(p.filters * (2 if i >= 2 else 1), p.kernel_size, padding="same", activation=p.activation)(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    if not variational:
        return keras.Model(inp, layers.Dense(p.latent_dim, name="z")(x), name="encoder")
    mean = layers.Dense(p.latent_dim, name="z_mean")(x)
    log_var = layers.Dense(p.latent_dim, name="z_log_var")(x)
    return keras.Model(inp, [mean, log_var], name="encoder")


def build_decoder(p: AEParams, frames: int, n_mels: int) -> keras.Model:
    """`decoder_depth` Conv1D layers: up to four that double the time axis, extra ones at full
    length, the last a sigmoid projection to the mel bands."""
    if p.decoder_depth < 2:
        raise ValueError(f"decoder_depth={p.decoder_depth}: needs at least 2 layers")
    n_up = min(p.decoder_depth - 1, 4)
    start = frames // 2**n_up
    if start * 2**n_up != frames:
        raise ValueError(f"frames={frames} is not divisible by 2**{n_up}")
    inp = keras.Input((p.latent_dim,), name="z")
    x = layers.Dense(start * p.filters * 2, activation=p.activation)(inp)
    x = layers.Reshape((start, p.filters * 2))(x)
    for i in range(p.decoder_depth - 1):
        if i < n_up:
            x = layers.UpSampling1D(2)(x)
        width = p.filters * (2 if i < 2 else 1)
        x = layers.Conv1D(width, p.kernel_size, padding="same", activation=p.activation)(x)
    out = layers.Conv1D(n_mels, p.kernel_size, padding="same", activation="sigmoid", name="unit_mel")(x)
    return keras.Model(inp, out, name="decoder")


def reconstruction_loss(unit_true, unit_pred):
    """Binary cross-entropy summed over the slice's pixels, averaged over the batch (Keras's VAE recipe)."""
    bce = keras.losses.binary_crossentropy(unit_true[..., None], unit_pred[..., None])
    return tf.reduce_mean(tf.reduce_sum(bce, axis=[1, 2]))


def kl_per_dimension(mean, log_var):
    """KL(q(z|x) || N(0, I)) per sample and latent dimension: 0.5 (exp(lv) + mu^2 - 1 - lv)."""
    return 0.5 * (tf.exp(log_var) + tf.square(mean) - 1.0 - log_var)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="MelAE")
class MelAE(_MelScaled):
    """Deterministic autoencoder; `vary` perturbs the latent by `vary_noise` x its RMS."""

    variational = False

    def __init__(self, encoder, decoder, mel_low, mel_high, vary_noise: float = 0.1, **kwargs):
        super().__init__(mel_low, mel_high, **kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.vary_noise = float(vary_noise)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True  # the sub-networks are built; lets load_model restore the optimizer state

    @classmethod
    def build_new(cls, p: AEParams, frames: int, n_mels: int, mel_low: float, mel_high: float, **kwargs):
        enc = build_encoder(p, frames, n_mels, variational=cls.variational)
        model = cls(enc, build_decoder(p, frames, n_mels), mel_low, mel_high, vary_noise=p.vary_noise, **kwargs)
        model.compile(optimizer=loss_scale.for_model(model, keras.optimizers.Adam(p.learning_rate)))
        return model

    @property
    def metrics(self):
        return [self.loss_tracker]

    def encode(self, log_mels):
        """Latent means (the AE's codes) of log-mel slices, as numpy."""
        out = self.encoder(self.to_unit(log_mels), training=False)
        return np.asarray(out[0] if self.variational else out)

    def decode(self, z):
        return np.asarray(self.from_unit(self.decoder(tf.convert_to_tensor(z, "float32"), training=False)))

    def call(self, log_mels, training=False):
        out = self.encoder(self.to_unit(log_mels), training=training)
        return self.from_unit(self.decoder(out[0] if self.variational else out, training=training))

    def blend(self, a, b, alphas) -> np.ndarray:
        """Decodings of (1 - alpha) z_a + alpha z_b for each alpha: (len(alphas), frames, n_mels)."""
        za, zb = self.encode(np.asarray(a)[None])[0], self.encode(np.asarray(b)[None])[0]
        alphas = np.asarray(alphas, dtype=np.float32)[:, None]
        return self.decode((1.0 - alphas) * za + alphas * zb)

    def latent_samples(self, log_mels, n: int, seed: int) -> np.ndarray:
        """(k, n, latent) codes near each input's code, reproducible for a seed."""
        z = self.encode(log_mels)
        rms = np.sqrt(np.mean(z**2, axis=-1, keepdims=True))[:, None]
        eps = np.random.default_rng(seed).standard_normal((len(z), n, z.shape[-1])).astype(np.float32)
        return z[:, None] + self.vary_noise * rms * eps

    def vary(self, log_mels, n: int, seed: int = 0) -> np.ndarray:
        """(k, n, frames, n_mels): n variations of each of k input slices."""
        z = self.latent_samples(log_mels, n, seed)
        out = self.decode(z.reshape(-1, z.shape[-1]))
        return out.reshape(len(z), n, *out.shape[1:])

    def _loss_terms(self, x, training):
        unit = self.to_unit(x)
        recon = reconstruction_loss(unit, self.decoder(self.encoder(unit, training=training), training=training))
        return recon, {"loss": recon}

    def train_step(self, data):
        x = keras.utils.unpack_x_y_sample_weight(data)[0]  # a PyDataset yields (x,)
        with tf.GradientTape() as tape:
            loss, logs = self._loss_terms(x, training=True)
            scaled = self.optimizer.scale_loss(replica_share(loss))  # a loss-scale optimizer unscales the gradients
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return self._track(logs)

    def test_step(self, data):
        return self._track(self._loss_terms(keras.utils.unpack_x_y_sample_weight(data)[0], training=False)[1])

    def _track(self, logs):
        for metric in self.metrics:
            metric.update_state(logs[metric.name])
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "vary_noise": self.vary_noise,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        enc = keras.saving.deserialize_keras_object(config.pop("encoder"))
        dec = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(enc, dec, **config)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="MelVAE")
class MelVAE(MelAE):
    """VAE: Gaussian posterior, reparameterised sample, recon_weight * BCE + beta * KL with free bits.

`loss` is what is minimised; `elbo` (= recon + KL, the negative evidence lower bound) is the
same objective for every setting of the remedy, so runs are selected and compared on it.

    `beta` is a variable that `KLWarmup` sets at the start of every epoch; free bits clamp each
    dimension's batch-mean KL from below, so dimensions under the floor cost nothing.
    """

    variational = True

    def __init__(self, encoder, decoder, mel_low, mel_high, vary_noise: float = 0.1, free_bits: float = 0.0,
                 seed: int = 0, recon_weight: float = 1.0, **kwargs):
        super().__init__(encoder, decoder, mel_low, mel_high, vary_noise=vary_noise, **kwargs)
        self.free_bits, self.seed, self.recon_weight = float(free_bits), int(seed), float(recon_weight)
        self.beta = keras.Variable(1.0, trainable=False, name="beta")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.recon_tracker = keras.metrics.Mean(name="recon")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")

    @classmethod
    def build_new(cls, p: VAEParams, frames, n_mels, mel_low, mel_high, seed: int = 0):
        return super().build_new(p, frames, n_mels, mel_low, mel_high, free_bits=p.free_bits, seed=seed,
                                 recon_weight=p.recon_weight)

    @property
    def metrics(self):
        return [self.loss_tracker, self.recon_tracker, self.kl_tracker, self.elbo_tracker]

    def posterior(self, log_mels):
        """(mean, log_var) of q(z|x) as numpy."""
        mean, log_var = self.encoder(self.to_unit(log_mels), training=False)
        return np.asarray(mean), np.asarray(log_var)

    def latent_samples(self, log_mels, n: int, seed: int) -> np.ndarray:
        """Reparameterised draws z = mu + sigma * eps, eps ~ N(0, I) from a seeded generator."""
        mean, log_var = self.posterior(log_mels)
        eps = np.random.default_rng(seed).standard_normal((len(mean), n, mean.shape[-1])).astype(np.float32)
        return mean[:, None] + np.exp(0.5 * log_var)[:, None] * eps

    def _loss_terms(self, x, training):
        unit = self.to_unit(x)
        mean, log_var = self.encoder(unit, training=training)
        eps = replica_normal(tf.shape(mean), self.seed_generator)
        z = mean + tf.exp(0.5 * log_var) * eps
        recon = reconstruction_loss(unit, self.decoder(z, training=training))
        kl_dims = replica_mean(tf.reduce_mean(kl_per_dimension(mean, log_var), axis=0))
        kl = tf.reduce_sum(kl_dims)
        penalised = tf.reduce_sum(tf.maximum(kl_dims, self.free_bits))
        loss = self.recon_weight * recon + self.beta * penalised
        return loss, {"loss": loss, "recon": recon, "kl": kl, "elbo": recon + kl}

    def get_config(self):
        return {**super().get_config(), "free_bits": self.free_bits, "seed": self.seed, "recon_weight": self.recon_weight}


class KLWarmup(keras.callbacks.Callback):
    """beta(epoch) = beta * min(1, (epoch + 1) / warmup_epochs); constant `beta` when warmup_epochs is 0."""

    def __init__(self, beta: float, warmup_epochs: int):
        super().__init__()
        self.beta_max, self.warmup = beta, warmup_epochs

    def value(self, epoch: int) -> float:
        if self.warmup <= 0:
            return self.beta_max
        return self.beta_max * min(1.0, (epoch + 1) / self.warmup)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta.assign(self.value(epoch))


# --------------------------------------------------------------------------- cGAN


def build_generator(p: CGANParams, frames: int, n_mels: int) -> keras.Model:
    """(noise, label embedding) -> [0, 1] mel: Dense, three stride-2 transposed convs (LeakyReLU), a sigmoid conv."""
    noise = keras.Input((p.noise_dim,), name="noise")
    cond = keras.Input((p.embedding_dim,), name="label_embedding")
    h, w = frames // 8, n_mels // 8
    x = layers.Concatenate()([noise, cond])
    x = layers.Dense(h * w * p.filters * 2)(x)
    x = layers.LeakyReLU(p.leaky_slope)(x)
    x = layers.Reshape((h, w, p.filters * 2))(x)
    for width in (p.filters * 2, p.filters, p.filters // 2):
        x = layers.Conv2DTranspose(width, p.kernel_size, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(p.leaky_slope)(x)
    x = layers.Conv2D(1, p.kernel_size, padding="same", activation="sigmoid")(x)
    return keras.Model([noise, cond], layers.Reshape((frames, n_mels))(x), name="generator")


def build_discriminator(p: CGANParams, frames: int, n_mels: int, num_classes: int) -> keras.Model:
    """(mel, label) -> P(real): the label's embedding as an extra image channel, four stride-2 tanh convs, sigmoid."""
    mel = keras.Input((frames, n_mels), name="unit_mel")
    label = keras.Input((), dtype="int32", name="label")
    emb = layers.Embedding(num_classes, p.embedding_dim)(label)
    emb = layers.Reshape((frames, n_mels, 1))(layers.Dense(frames * n_mels)(emb))
    x = layers.Concatenate()([layers.Reshape((frames, n_mels, 1))(mel), emb])
    for width in (p.filters // 2, p.filters, p.filters * 2, p.filters * 2):
        x = layers.Conv2D(width, p.kernel_size, strides=2, padding="same", activation="tanh")(x)
    x = layers.Flatten()(x)
    return keras.Model([mel, label], layers.Dense(1, activation="sigmoid")(x), name="discriminator")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE, name="MelCGAN")
class MelCGAN(_MelScaled):
    """Generator, discriminator, the generator's label embedding and both optimisers in one model."""

    def __init__(self, generator, discriminator, embedding, classes, mel_low, mel_high,
                 learning_rate: float = 2e-4, beta_1: float = 0.5, seed: int = 0, **kwargs):
        super().__init__(mel_low, mel_high, **kwargs)
        self.generator, self.discriminator, self.embedding = generator, discriminator, embedding
        self.classes = list(classes)
        self.learning_rate, self.beta_1, self.seed = float(learning_rate), float(beta_1), int(seed)
        self.noise_dim = int(generator.inputs[0].shape[-1])
        self.g_optimizer, self.d_optimizer = self._optimizer(), self._optimizer()
        self.g_optimizer.build(self._g_vars())
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    @classmethod
    def build_new(cls, p: CGANParams, frames, n_mels, classes, mel_low, mel_high, seed: int = 0):
        gen = build_generator(p, frames, n_mels)
        disc = build_discriminator(p, frames, n_mels, len(classes))
        emb = keras.Sequential([keras.Input((), dtype="int32"), layers.Embedding(len(classes), p.embedding_dim)],
                               name="label_embedding")
        return cls(gen, disc, emb, classes, mel_low, mel_high, p.learning_rate, p.beta_1, seed)

    def _optimizer(self):
        """Adam, with dynamic loss scaling when the model computes in float16 (a mixed-precision run)."""
        return loss_scale.for_model(self, keras.optimizers.Adam(self.learning_rate, beta_1=self.beta_1))

    def sync_batch_norm(self, replicas: int) -> None:
        """The generator's batch statistics over the whole global batch when it is split across replicas, so
        it trains as on one device and every replica keeps the same moving statistics; plain batch norm on one."""
        for layer in self.generator.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.synchronized = replicas > 1

    def _g_vars(self):
        return self.generator.trainable_variables + self.embedding.trainable_variables

    def label_index(self, label: str) -> int:
        if label not in self.classes:
            raise ValueError(f"unknown label {label!r} (the model knows: {', '.join(self.classes)})")
        return self.classes.index(label)

    def label_vectors(self, labels) -> np.ndarray:
        """Embeddings of labels (names or indices)."""
        ids = [self.label_index(x) if isinstance(x, str) else int(x) for x in labels]
        return np.asarray(self.embedding(np.asarray(ids, dtype="int32")))

    def generate(self, conditions, seed: int = 0) -> np.ndarray:
        """(k, embedding_dim) conditions -> (k, frames, n_mels) log-mels, noise from a seeded generator."""
        conditions = np.asarray(conditions, dtype=np.float32)
        noise = np.random.default_rng(seed).standard_normal((len(conditions), self.noise_dim)).astype(np.float32)
        return np.asarray(self.from_unit(self.generator([noise, conditions], training=False)))

    def sample(self, label, n: int, blend_with=None, seed: int = 0) -> np.ndarray:
        """n slices of `label`, or of the mean of `label`'s and `blend_with`'s embeddings (the paper's blend)."""
        cond = self.label_vectors([label])[0]
        if blend_with is not None:
            cond = 0.5 * (cond + self.label_vectors([blend_with])[0])
        return self.generate(np.repeat(cond[None], n, axis=0), seed=seed)

    def call(self, inputs, training=False):
        noise, labels = inputs
        return self.from_unit(self.generator([noise, self.embedding(labels)], training=training))

    def train_batch(self, x, y):
        """One discriminator and one generator update on this replica's rows (the whole batch on one device; the
        training loop runs it as a graph in `strategy.run`); returns (d_loss, g_loss, D(real), D(fake)) of them."""
        real = self.to_unit(x)
        batch = tf.shape(real)[0]
        noise = replica_normal((batch, self.noise_dim), self.seed_generator)
        bce = keras.losses.BinaryCrossentropy()  # under R replicas Keras makes it a replica's share: its mean / R
        fake = self.generator([noise, self.embedding(y)], training=True)
        with tf.GradientTape() as tape:
            p_real = self.discriminator([real, y], training=True)
            p_fake = self.discriminator([fake, y], training=True)
            d_loss = bce(tf.fill(tf.shape(p_real), 0.9), p_real) + bce(tf.zeros_like(p_fake), p_fake)
            scaled = self.d_optimizer.scale_loss(d_loss)
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(scaled, d_vars), d_vars, strict=True))
        noise = replica_normal((batch, self.noise_dim), self.seed_generator)
        with tf.GradientTape() as tape:
            p_gen = self.discriminator([self.generator([noise, self.embedding(y)], training=True), y], training=False)
            g_loss = bce(tf.ones_like(p_gen), p_gen)
            scaled = self.g_optimizer.scale_loss(g_loss)
        g_vars = self._g_vars()
        self.g_optimizer.apply_gradients(zip(tape.gradient(scaled, g_vars), g_vars, strict=True))
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return d_loss * replicas, g_loss * replicas, tf.reduce_mean(p_real), tf.reduce_mean(p_fake)

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "generator": ser(self.generator), "discriminator": ser(self.discriminator), "embedding": ser(self.embedding),
            "classes": self.classes, "learning_rate": self.learning_rate, "beta_1": self.beta_1, "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        nets = {k: keras.saving.deserialize_keras_object(config.pop(k)) for k in ("generator", "discriminator", "embedding")}
        return cls(**nets, **config)


def build(name: str, params, frames: int, n_mels: int, mel_low: float, mel_high: float,
          classes=None, seed: int = 0) -> keras.Model:
    """Registry: "ae", "vae" or "cgan" with its params dataclass."""
    if name == "ae":
        return MelAE.build_new(params, frames, n_mels, mel_low, mel_high)
    if name == "vae":
        return MelVAE.build_new(params, frames, n_mels, mel_low, mel_high, seed=seed)
    if name == "cgan":
        return MelCGAN.build_new(params, frames, n_mels, classes, mel_low, mel_high, seed=seed)
    raise ValueError(f"unknown generator {name!r} (choose from ae, vae, cgan)")
