"""WaveNet / WaveRNN: causality, masking, and incremental generation equal to the full forward pass."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from asmr_generate.wave.params import WaveNetParams, WaveRNNParams
from asmr_generate.wave.sampling import WaveNetSampler, WaveRNNSampler
from asmr_generate.wave.wavenet import build_wavenet, trigger_embeddings
from asmr_generate.wave.wavernn import build_wavernn

TINY_NET = WaveNetParams(layers_per_stack=3, stacks=2, residual_channels=8, skip_channels=8)
TINY_RNN = WaveRNNParams(hidden=16, output_hidden=16, embedding=4)


def _wavenet_inputs(rng, channels, conditioned, length=90):
    codes = rng.integers(0, 256, (2, length, channels))
    return {"audio": codes, **({"trigger": np.array([2, 2])} if conditioned else {})}


@pytest.mark.parametrize("channels,triggers", [(1, 0), (1, 3), (2, 3)])
def test_wavenet_is_causal_and_queued_generation_equals_full_pass(channels, triggers, tmp_path):
    keras.utils.set_random_seed(0)
    params = WaveNetParams(**{**TINY_NET.__dict__, "channels": channels})
    model = build_wavenet(params, triggers)
    assert params.receptive_field == 16  # 2 + 2 * (1 + 2 + 4)
    rng = np.random.default_rng(0)
    inputs = _wavenet_inputs(rng, channels, triggers)
    full = np.asarray(model(inputs))
    assert full.shape == (2, 90, channels, 256)
    changed = {**inputs, "audio": inputs["audio"].copy()}
    changed["audio"][:, 50:] = rng.integers(0, 256, (2, 40, channels))
    after = np.asarray(model(changed))
    np.testing.assert_array_equal(after[:, :50], full[:, :50])  # output at t sees inputs up to t only
    assert np.abs(after[:, 50] - full[:, 50]).max() > 1e-4
    # the queued sample-by-sample pass gives the same distributions
    incremental = WaveNetSampler(model).logits(inputs["audio"], trigger=2 if triggers else None)
    assert np.abs(incremental - full).max() < 1e-4
    if triggers:
        other = np.asarray(model({**inputs, "trigger": np.array([0, 0])}))
        assert np.abs(other - full).max() > 1e-4  # the trigger embedding changes the output
        assert trigger_embeddings(model).shape == (3, 6 * 2 * 8)
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(keras.models.load_model(tmp_path / "m.keras")(inputs)), full, atol=1e-6)


@pytest.mark.parametrize("conditioning", ["none", "bias", "concat"])
def test_wavernn_mask_and_stepwise_pass_equal_full_pass(conditioning):
    keras.utils.set_random_seed(0)
    triggers = 0 if conditioning == "none" else 3
    model = build_wavernn(TINY_RNN, triggers, conditioning)
    rng = np.random.default_rng(1)
    samples = rng.integers(0, 65536, (2, 41))
    inputs = {"samples": samples, **({"trigger": np.array([1, 1])} if triggers else {})}
    out = {k: np.asarray(v) for k, v in model(inputs).items()}
    assert out["coarse"].shape == out["fine"].shape == (2, 40, 256)
    # changing the coarse byte of sample 21 leaves P(c_21) alone and changes only P(f_21) at step 20
    changed = samples.copy()
    changed[:, 21] = (changed[:, 21] + 97 * 256) % 65536
    after = {k: np.asarray(v) for k, v in model({**inputs, "samples": changed}).items()}
    np.testing.assert_array_equal(after["coarse"][:, :21], out["coarse"][:, :21])
    np.testing.assert_array_equal(after["fine"][:, :20], out["fine"][:, :20])
    assert np.abs(after["fine"][:, 20] - out["fine"][:, 20]).max() > 1e-5
    coarse, fine = WaveRNNSampler(model).logits(samples, trigger=1 if triggers else None)
    assert np.abs(coarse - out["coarse"]).max() < 1e-4 and np.abs(fine - out["fine"]).max() < 1e-4
