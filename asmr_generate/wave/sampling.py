"""Sample-by-sample generation: queued fast WaveNet and a compiled WaveRNN step.

WaveNet: every layer keeps a queue of its last `dilation` inputs (Paine et al.'s fast-WaveNet idea), so a
new sample costs one matrix product per layer instead of a pass over the whole receptive field. WaveRNN:
the recurrence runs in a compiled loop; the coarse byte is sampled from the coarse half of h_t, then fed
through the masked column of I* to get the fine half, and the fine byte is sampled. Both run chunks of
steps inside one XLA-compiled `tf.function` and sample with the Gumbel-max trick on stateless noise, so a
seed fixes the output. Every chunk is CHUNK steps long (the tail of the last one is dropped): XLA compiles
one program per loop length. `gumbel_sample` and `chunks` are public so that benchmarks/wavegen.py's
naive baseline samples exactly the same way.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from asmr_generate.wave.codecs import join16, mulaw_decode, scale_byte
from asmr_generate.wave.wavenet import ResidualBlock, blocks
from asmr_generate.wave.wavernn import recurrent_layer
from audioprep import console

CHUNK = 256


def gumbel_sample(logits, temperature, seed):
    """Categorical sample along the last axis: argmax(logits / T + Gumbel noise)."""
    u = tf.random.stateless_uniform(tf.shape(logits), seed=seed, minval=1e-7, maxval=1.0 - 1e-7)
    return tf.argmax(logits / temperature - tf.math.log(-tf.math.log(u)), axis=-1, output_type=tf.int32)


def chunks(n: int, progress: bool, desc: str):
    bar = console.bar(total=n, desc=desc, unit="sample", enabled=progress, leave=False)
    done = 0
    while done < n:
        step = min(CHUNK, n - done)
        yield done, step
        done += step
        bar.update(step)
    bar.close()


def _trigger_array(trigger, batch: int) -> np.ndarray:
    """One trigger index per batch row: None (unconditioned), one index for all rows, or one per row."""
    if trigger is None or np.ndim(trigger) == 0:
        return np.full((batch,), 0 if trigger is None else int(trigger), dtype=np.int32)
    trigger = np.asarray(trigger, dtype=np.int32)
    if trigger.shape != (batch,):
        raise ValueError(f"{len(trigger)} triggers for a batch of {batch}")
    return trigger


class WaveNetSampler:
    """Queued incremental WaveNet; `logits(codes)` (teacher forced) equals the model's full forward pass."""

    def __init__(self, model: keras.Model):
        self.model = model
        causal = model.get_layer("causal")
        self.channels = int(model.input["audio"].shape[-1])
        self.quantization = model.get_layer("onehot").quantization
        # the layers' own variables, read live: one compiled sampler follows the weights as training goes on
        self.w_in, self.b_in = causal.kernel, causal.bias
        self.blocks: list[ResidualBlock] = blocks(model)
        if any(b.kernel_size != 2 for b in self.blocks) or causal.kernel.shape[0] != 2:
            raise ValueError("queued generation is written for kernel size 2")
        self.conditioned = bool(self.blocks[0].triggers)
        self.layer_weights = [
            (b.dilated.kernel, b.dilated.bias, b.mix.kernel, b.mix.bias,
             b.condition.embeddings if b.condition is not None else None)
            for b in self.blocks
        ]
        post1, post2 = model.get_layer("post_1"), model.get_layer("post_2")
        self.post = (post1.kernel, post1.bias, post2.kernel, post2.bias)
        self._forced = tf.function(self._forced_chunk)
        self._sample = tf.function(self._sample_chunk, jit_compile=True)

    @property
    def receptive_field(self) -> int:
        return sum(b.dilation for b in self.blocks) + 2

    def initial_state(self, batch: int, trigger=None):
        """Zero queues (the causal zero padding of the full pass) and the per-layer condition rows."""
        prev = tf.zeros((batch, self.w_in.shape[1]))
        queues = tuple(tf.zeros((batch, b.dilation, b.residual)) for b in self.blocks)
        trig = tf.constant(_trigger_array(trigger, batch))
        conds = tuple(
            tf.gather(tf.convert_to_tensor(emb), trig) if emb is not None else tf.zeros((batch, 2 * b.residual))
            for b, (*_, emb) in zip(self.blocks, self.layer_weights, strict=True)
        )
        return prev, queues, conds

    def _step(self, prev, queues, conds, codes):
        """codes (batch, channels) at t -> logits (batch, channels, Q) for t + 1, updated queues."""
        onehot = tf.reshape(tf.one_hot(codes, self.quantization), (tf.shape(codes)[0], -1))
        h = tf.matmul(prev, self.w_in[0]) + tf.matmul(onehot, self.w_in[1]) + self.b_in
        new_queues, skip = [], 0.0
        for queue, cond, (wd, bd, wm, bm, _), block in zip(queues, conds, self.layer_weights, self.blocks, strict=True):
            fg = tf.matmul(queue[:, 0], wd[0]) + tf.matmul(h, wd[1]) + bd + cond
            c = block.residual
            z = tf.tanh(fg[:, :c]) * tf.sigmoid(fg[:, c:])
            mixed = tf.matmul(z, wm[0]) + bm
            new_queues.append(tf.concat([queue[:, 1:], h[:, None]], axis=1))
            h = h + mixed[:, :c]
            skip = skip + mixed[:, c:]
        w1, b1, w2, b2 = self.post
        s = tf.nn.relu(tf.matmul(tf.nn.relu(skip), w1[0]) + b1)
        logits = tf.reshape(tf.matmul(s, w2[0]) + b2, (-1, self.channels, self.quantization))
        return logits, onehot, tuple(new_queues)

    def _forced_chunk(self, prev, queues, conds, codes):
        logits = tf.TensorArray(tf.float32, size=tf.shape(codes)[1])
        for t in tf.range(tf.shape(codes)[1]):
            out, prev, queues = self._step(prev, queues, conds, codes[:, t])
            logits = logits.write(t, out)
        return tf.transpose(logits.stack(), (1, 0, 2, 3)), prev, queues

    def _sample_chunk(self, prev, queues, conds, code, temperature, seed):
        out = tf.TensorArray(tf.int32, size=CHUNK)
        for t in tf.range(CHUNK):
            logits, prev, queues = self._step(prev, queues, conds, code)
            code = gumbel_sample(logits, temperature, tf.stack([seed, t]))
            out = out.write(t, code)
        return tf.transpose(out.stack(), (1, 0, 2)), prev, queues, code

    def logits(self, codes, trigger=None) -> np.ndarray:
        """Teacher-forced incremental logits for codes (batch, time, channels): (batch, time, channels, Q)."""
        codes = tf.constant(np.asarray(codes, dtype=np.int32))
        prev, queues, conds = self.initial_state(int(codes.shape[0]), trigger)
        parts = []
        for start, n in chunks(int(codes.shape[1]), False, ""):
            out, prev, queues = self._forced(prev, queues, conds, codes[:, start : start + n])
            parts.append(out.numpy())
        return np.concatenate(parts, axis=1)

    def generate_codes(self, n: int, batch: int = 1, trigger=None, temperature: float = 1.0, seed: int = 0,
                       progress: bool = True) -> np.ndarray:
        """n sampled mu-law codes (batch, channels, n), starting from silence."""
        prev, queues, conds = self.initial_state(batch, trigger)
        code = tf.fill((batch, self.channels), self.quantization // 2)
        parts = []
        for start, step in chunks(n, progress, "wavenet"):
            out, prev, queues, code = self._sample(prev, queues, conds, code, tf.constant(float(temperature)),
                                                   tf.constant(seed * 1_000_003 + start, tf.int32))
            parts.append(out.numpy()[:, :step])
        return np.transpose(np.concatenate(parts, axis=1), (0, 2, 1))

    def generate(self, n: int, **kwargs) -> np.ndarray:
        """n samples of float audio (batch, channels, n)."""
        return mulaw_decode(self.generate_codes(n, **kwargs), self.quantization)


class WaveRNNSampler:
    """Compiled WaveRNN recurrence with on-the-fly sampling of the coarse, then the fine byte."""

    def __init__(self, model: keras.Model):
        self.model = model
        self.rnn = recurrent_layer(model)
        self.heads = model.get_layer("dual_softmax")
        self.conditioned = self.rnn.conditioning != "none"
        self._forced = tf.function(self._forced_chunk)
        self._sample = tf.function(self._sample_chunk, jit_compile=True)

    def initial_state(self, batch: int, trigger=None):
        gate, gh = self.rnn.condition(tf.constant(_trigger_array(trigger, batch)))
        gate = tf.broadcast_to(gate, (batch, 3 * self.rnn.hidden))
        gh = tf.broadcast_to(gh, (batch, 3 * self.rnn.hidden))
        return tf.zeros((batch, self.rnn.hidden)), gate, gh

    def _pre(self, c_prev, f_prev, gate):
        """I* [c(t-1), f(t-1), .] + bias + V h: the input side without the current coarse sample."""
        kernel = self.rnn.masked_input_kernel()
        x = tf.stack([scale_byte(tf.cast(c_prev, tf.float32)), scale_byte(tf.cast(f_prev, tf.float32))], axis=-1)
        return tf.matmul(x, kernel[:2]) + self.rnn.input_bias + gate, kernel[2]

    def _forced_chunk(self, h, gate, gh, samples):
        """samples (batch, n + 1) 16-bit codes -> coarse and fine logits for samples 1..n."""
        coarse_all, fine_all = samples // 256, samples % 256
        cs, fs = tf.TensorArray(tf.float32, size=tf.shape(samples)[1] - 1), tf.TensorArray(
            tf.float32, size=tf.shape(samples)[1] - 1)
        for t in tf.range(tf.shape(samples)[1] - 1):
            pre, k_c = self._pre(coarse_all[:, t], fine_all[:, t], gate)
            h_coarse = self.rnn.cell(h, pre, gh)
            cs = cs.write(t, self.heads.coarse(h_coarse))
            c_now = scale_byte(tf.cast(coarse_all[:, t + 1], tf.float32))
            h = self.rnn.cell(h, pre + c_now[:, None] * k_c, gh)
            fs = fs.write(t, self.heads.fine(h))
        return tf.transpose(cs.stack(), (1, 0, 2)), tf.transpose(fs.stack(), (1, 0, 2)), h

    def _sample_chunk(self, h, gate, gh, c, f, temperature, seed):
        out = tf.TensorArray(tf.int32, size=CHUNK)
        for t in tf.range(CHUNK):
            pre, k_c = self._pre(c, f, gate)
            c = gumbel_sample(self.heads.coarse(self.rnn.cell(h, pre, gh)), temperature, tf.stack([seed, 2 * t]))
            h = self.rnn.cell(h, pre + scale_byte(tf.cast(c, tf.float32))[:, None] * k_c, gh)
            f = gumbel_sample(self.heads.fine(h), temperature, tf.stack([seed, 2 * t + 1]))
            out = out.write(t, c * 256 + f)
        return tf.transpose(out.stack()), h, c, f

    def logits(self, samples, trigger=None) -> tuple[np.ndarray, np.ndarray]:
        """Teacher-forced step-by-step (coarse, fine) logits, equal to the model's full pass."""
        samples = tf.constant(np.asarray(samples, dtype=np.int32))
        h, gate, gh = self.initial_state(int(samples.shape[0]), trigger)
        coarse, fine = [], []
        for start, n in chunks(int(samples.shape[1]) - 1, False, ""):
            c, f, h = self._forced(h, gate, gh, samples[:, start : start + n + 1])
            coarse.append(c.numpy())
            fine.append(f.numpy())
        return np.concatenate(coarse, axis=1), np.concatenate(fine, axis=1)

    def generate_codes(self, n: int, batch: int = 1, trigger=None, temperature: float = 1.0, seed: int = 0,
                       progress: bool = True) -> np.ndarray:
        """n sampled 16-bit codes (batch, n), starting from silence (c, f = 128, 0)."""
        h, gate, gh = self.initial_state(batch, trigger)
        c, f = tf.fill((batch,), 128), tf.zeros((batch,), tf.int32)
        parts = []
        for start, step in chunks(n, progress, "wavernn"):
            out, h, c, f = self._sample(h, gate, gh, c, f, tf.constant(float(temperature)),
                                        tf.constant(seed * 1_000_003 + start, tf.int32))
            parts.append(out.numpy()[:, :step])
        return np.concatenate(parts, axis=1)

    def generate(self, n: int, **kwargs) -> np.ndarray:
        """n samples of float audio (batch, 1, n)."""
        codes = self.generate_codes(n, **kwargs)
        return join16(codes // 256, codes % 256)[:, None, :]


def sampler_for(model: keras.Model):
    """The sampler matching a loaded model (WaveNet or WaveRNN)."""
    if blocks(model):
        return WaveNetSampler(model)
    return WaveRNNSampler(model)
