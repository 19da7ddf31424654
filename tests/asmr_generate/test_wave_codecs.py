"""Sample encodings of the waveform generators and WaveRNN's masked input matrix."""

from __future__ import annotations

import numpy as np

from asmr_generate.wave.codecs import join16, mulaw_decode, mulaw_encode, scale_byte, split16
from asmr_generate.wave.wavernn import input_mask


def test_mulaw_round_trip_error_is_within_half_a_step():
    x = np.linspace(-1.0, 1.0, 10001)
    codes = mulaw_encode(x)
    assert codes.min() == 0 and codes.max() == 255 and codes.dtype == np.int32
    assert mulaw_encode(0.0) == 128  # silence sits mid-range
    y = mulaw_decode(codes)
    # mu-law steps are finest near zero: small signals come back almost exactly, loud ones within ~3 %
    assert np.abs(y - x)[np.abs(x) < 0.01].max() < 3e-4
    assert np.abs(y - x).max() < 0.035
    np.testing.assert_array_equal(mulaw_encode(mulaw_decode(np.arange(256))), np.arange(256))


def test_coarse_fine_round_trip_is_exact_on_16_bit_values():
    rng = np.random.default_rng(0)
    ints = rng.integers(-32768, 32768, 5000)
    x = ints / 32768.0
    coarse, fine = split16(x)
    assert coarse.min() >= 0 and coarse.max() <= 255 and fine.min() >= 0 and fine.max() <= 255
    np.testing.assert_array_equal(join16(coarse, fine), x.astype(np.float32))
    c, f = split16(np.array([-1.0, 0.0, 1.0]))
    assert list(c) == [0, 128, 255] and list(f) == [0, 0, 255]  # +1.0 clips to the largest 16-bit value
    np.testing.assert_allclose(scale_byte(np.array([0.0, 255.0])), [-1.0, 1.0])


def test_wavernn_mask_cuts_current_coarse_from_the_coarse_half_only():
    hidden = 8
    mask = input_mask(hidden)
    assert mask.shape == (3, 3 * hidden)
    assert mask[:2].all()  # c(t-1) and f(t-1) feed every unit of every gate
    for gate in range(3):
        block = mask[2, gate * hidden : (gate + 1) * hidden]
        np.testing.assert_array_equal(block, [0] * 4 + [1] * 4)  # c(t): fine half only
