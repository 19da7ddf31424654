"""The five models of the paper's Table III, built by name from one registry.

Every model takes a batch of 1 s waveforms at LeanParams.sample_rate (16 kHz) and returns per-class
sigmoid scores (multi-label data, as FSD50K) or a softmax over the classes (single-label folders); the YAMNet log-mel front end runs inside the graph, so the same model trains,
evaluates and exports.

Parameter counts (with FSD50K's 200 classes) match the paper's Table III exactly when read this way:
- yamnet_frozen: frozen YAMNet embedding -> Dense(200) sigmoid head: 3,217,344 + 205,000 = 3.42M
  (the paper's "without finetune"; a 256-d projection here would make it 3.53M, the next row).
- yamnet_finetune: YAMNet, trainable (but for batch norms holding a folded bias), -> Dense(256) projection
  -> head: 3,531,144 = 3.53M.
- joint: frozen YAMNet -> projection, concatenated with the Wave Encoder's last state: 4,518,280 = 4.51M
  (the paper truncates; 4.52M rounded).
- joint_affinity: as joint, with the weight-free affinity cross attention: 4,518,280 = 4.51M.
- lean: as joint, with Bahdanau cross attention, d = 128 (+65,921): 4,584,201 = 4.58M.
The 521-class YAMNet head (534,025 weights) is not part of any of them.
"""

from __future__ import annotations

import keras

from lean.attention import AffinityAttention, BahdanauAttention
from lean.params import LeanParams
from lean.wave_encoder import wave_encoder
from lean.yamnet import embedding_model, yamnet
from lean.yamnet_weights import freeze_folded_batch_norms

PAPER_CLASSES = 200
PAPER = {  # Table III: mAP, mAUC, d-prime, parameters
    "yamnet_frozen": {"label": "YAMNet (without finetune)", "mAP": 0.446, "mAUC": 0.939, "dprime": 2.192, "params": "3.42M"},
    "yamnet_finetune": {"label": "YAMNet (finetune)", "mAP": 0.4577, "mAUC": 0.943, "dprime": 2.235, "params": "3.53M"},
    "joint": {"label": "Joint Model (JM)", "mAP": 0.4609, "mAUC": 0.944, "dprime": 2.243, "params": "4.51M"},
    "joint_affinity": {"label": "JM + Affinity Cross Attention", "mAP": 0.4654, "mAUC": 0.944, "dprime": 2.249, "params": "4.51M"},
    "lean": {"label": "JM + Bahdanau Cross Attention (LEAN)", "mAP": 0.4677, "mAUC": 0.944, "dprime": 2.251, "params": "4.58M"},
}
VARIANTS = tuple(PAPER)
HEAD = "classifier"


def build_model(
    variant: str,
    num_classes: int,
    params: LeanParams = LeanParams(),
    embedder: keras.Model | None = None,
    unroll: bool = False,
    multi_label: bool = True,
) -> keras.Model:
    """Build a Table III model named `variant`; `embedder` maps (batch, patch_samples) waveforms to YAMNet's 1024-d
    embedding (native or hub; default: a fresh native YAMNet). The model's name is the variant; its head is
    sigmoid for `multi_label` data, else softmax."""
    if variant not in PAPER:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    if embedder is None:
        embedder = embedding_model(yamnet(params))
    embedder.trainable = variant == "yamnet_finetune"
    freeze_folded_batch_norms(embedder)  # the lite model's folded batch norms have no statistics to train
    wave = keras.Input((params.patch_samples,), name="waveform")
    features = embedder(wave)
    if variant != "yamnet_frozen":
        features = keras.layers.Dense(params.projection_units, name="projection")(features)
    if variant == "joint":
        context = wave_encoder(wave, params, sequences=False, unroll=unroll)
    elif variant in ("joint_affinity", "lean"):
        states = wave_encoder(wave, params, sequences=True, unroll=unroll)
        attention = (
            AffinityAttention(name="attention")
            if variant == "joint_affinity"
            else BahdanauAttention(params.attention_units, name="attention")
        )
        context, _ = attention([features, states])
    if variant in ("joint", "joint_affinity", "lean"):
        features = keras.layers.Concatenate(name="joint_embedding")([features, context])
    scores = keras.layers.Dense(num_classes, activation="sigmoid" if multi_label else "softmax", name=HEAD)(features)
    return keras.Model(wave, scores, name=variant)


def is_multi_label(model: keras.Model) -> bool:
    """Whether a built model scores each class on its own (sigmoid head) rather than one softmax over them."""
    return keras.activations.serialize(model.get_layer(HEAD).activation) != "softmax"


def params_with_classes(model: keras.Model, classes: int = PAPER_CLASSES) -> int:
    """The model's parameter count if its head had `classes` outputs (to compare with the paper's 200)."""
    head = model.get_layer(HEAD)
    fan_in = head.kernel.shape[0]
    return model.count_params() + (classes - head.units) * (fan_in + 1)


def yamnet_layer(model: keras.Model) -> keras.Model:
    """The YAMNet embedding sub-model inside a Table III model."""
    return model.get_layer("yamnet_embedding")
