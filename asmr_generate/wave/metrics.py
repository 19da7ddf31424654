"""How close the waveform generators come to real audio: held-out likelihood, spectra, stereo image, trigger embeddings.

Adell et al. 2020 report listening impressions only; these are the measurements experiments/table5.py puts
beside them.
"""

from __future__ import annotations

import numpy as np

from asmr_generate.wave.data import batch_arrays, tiled_windows

DB = 10.0 / np.log(10.0)  # natural-log power -> dB
NLL_WINDOW = 2048  # samples per held-out window


def nll_bits(model, kind: str, sequences, limit: int | None, trigger_index: int | None = None, batch: int = 4) -> float:
    """Mean held-out negative log-likelihood in bits per sample of a `kind` model ("wavenet": over its
    mu-law codes; "wavernn": over 16-bit samples, coarse + fine) on (trigger, codes) `sequences`, cut into
    at most `limit` windows; `trigger_index` conditions a conditioned model."""
    import tensorflow as tf

    windows, _ = tiled_windows(sequences, NLL_WINDOW, limit)
    # One traced graph for every batch: called eagerly, the WaveRNN's scan ran step by step in Python.
    forward = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)
    total, count = 0.0, 0
    for start in range(0, len(windows), batch):
        w = windows[start : start + batch]
        inputs, targets = batch_arrays(kind, w, None if trigger_index is None else np.full(len(w), trigger_index))
        outputs = forward(inputs)
        if kind == "wavenet":  # one softmax over the codes; the WaveRNN's are named coarse and fine
            targets, outputs = {"codes": targets}, {"codes": outputs}
        ce = sum(tf.nn.sparse_softmax_cross_entropy_with_logits(targets[k], outputs[k]).numpy() for k in targets)
        total += ce.sum()
        count += ce.size
    return float(total / count / np.log(2.0))


def spectral_distance(a: np.ndarray, b: np.ndarray) -> float:
    """RMS difference (dB) of the average log-mel spectra of two sets of (k, frames, bands) slices."""
    return float(np.sqrt(np.mean(np.square(a.mean(axis=(0, 1)) - b.mean(axis=(0, 1))))) * DB)


def ild_db(audio: np.ndarray, window: int) -> np.ndarray:
    """Inter-channel level difference 20 log10(rms L / rms R) per window of (2, n) audio."""
    k = audio.shape[-1] // window
    frames = audio[:, : k * window].reshape(2, k, window)
    rms = np.sqrt(np.mean(np.square(frames), axis=-1)) + 1e-8
    return 20.0 * np.log10(rms[0] / rms[1])


def technique_separation(vectors: np.ndarray, triggers) -> float:
    """Mean distance between the embeddings of triggers of different techniques ("tapping/..." vs
    "brushing/...") over the mean distance within a technique; NaN without both kinds of pair."""
    from scipy.spatial.distance import pdist, squareform

    d = squareform(pdist(vectors))
    tech = np.array([t.split("/")[0] for t in triggers])
    same = tech[:, None] == tech[None, :]
    off = ~np.eye(len(tech), dtype=bool)
    if not (same & off).any() or not (~same).any():
        return float("nan")
    return float(d[~same].mean() / d[same & off].mean())
