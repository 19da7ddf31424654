"""audioprep.segment: clip counts, overlap, repeat-padding, streamed windows."""

import numpy as np
import pytest

from audioprep.segment import (
    fixed_clips,
    repeat_pad,
    sliding_windows,
    stream_windows,
    window_bounds,
    window_count,
    window_hop,
)


def test_fixed_clips_drop_the_remainder():
    audio = np.arange(25, dtype=np.float32)
    clips = fixed_clips(audio, 10)
    assert clips.shape == (2, 10)
    assert clips[1, 0] == 10 and clips[1, -1] == 19
    assert fixed_clips(audio[:5], 10).shape == (0, 10)


def test_repeat_pad_tiles_short_clips():
    out = repeat_pad(np.array([1.0, 2.0, 3.0]), 8)
    np.testing.assert_array_equal(out, [1, 2, 3, 1, 2, 3, 1, 2])
    with pytest.raises(ValueError):
        repeat_pad(np.array([]), 4)


def test_sliding_windows_cover_the_signal_with_half_overlap():
    audio = np.arange(25, dtype=np.float32)
    windows = sliding_windows(audio, 10, overlap=0.5)
    assert windows.shape == (4, 10)  # starts 0, 5, 10, 15
    np.testing.assert_array_equal(windows[:, 0], [0, 5, 10, 15])
    np.testing.assert_array_equal(windows[-1], [15, 16, 17, 18, 19, 20, 21, 22, 23, 24])
    short = sliding_windows(audio[:4], 10)
    assert short.shape == (1, 10) and short[0, 4] == 0


def test_window_bounds_in_seconds():
    starts, ends = window_bounds(3, 16000, window_hop(16000, 0.5), 16000, total=30000)
    np.testing.assert_allclose(starts, [0, 0.5, 1.0])
    np.testing.assert_allclose(ends, [1.0, 1.5, 1.875])


def test_window_hop_and_count():
    assert window_hop(16000, 0.5) == 8000 and window_hop(3, 0.9) == 1
    assert [window_count(n, 10, 5) for n in (1, 10, 11, 15, 16, 25)] == [1, 1, 2, 2, 3, 4]
    with pytest.raises(ValueError, match="overlap"):
        window_hop(10, 1.0)


@pytest.mark.parametrize("n", [4, 10, 23, 25, 26])
def test_streamed_windows_are_the_sliding_windows_batch_by_batch(n):
    audio = np.arange(n, dtype=np.float32)
    whole = sliding_windows(audio, 10, 0.5)
    assert len(whole) == window_count(n, 10, 5)
    batches = list(stream_windows(audio, 10, 0.5, batch=2))
    assert [first for first, _ in batches] == list(range(0, len(whole), 2))
    assert all(len(w) <= 2 for _, w in batches)
    np.testing.assert_array_equal(np.concatenate([w for _, w in batches]), whole)


def test_the_last_window_repeats_the_signal_from_its_start():
    windows = sliding_windows(np.arange(23, dtype=np.float32), 10, 0.5)
    np.testing.assert_array_equal(windows[:, 0], [0, 5, 10, 15])
    np.testing.assert_array_equal(windows[-1], [15, 16, 17, 18, 19, 20, 21, 22, 0, 1])
