"""audioprep.stream: block-wise decoding equals whole-file loading, windows equal sliding_windows /
fixed_clips, truncated and broken files, and memory that does not grow with the file."""

import threading
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from audioprep.errors import AudioError
from audioprep.io import load_audio, write_audio
from audioprep.segment import batched_windows, fixed_clips, sliding_windows, window_count, window_hop
from audioprep.stream import AudioStream, prefetch, scan_audio

SR_IN = 44100


def stereo(seconds, sr=SR_IN):
    """(n, 2): two tones under a slow swell, different per channel, so every window differs."""
    t = np.arange(int(seconds * sr)) / sr
    swell = 0.5 + 0.4 * np.sin(2 * np.pi * 0.13 * t)
    left = swell * np.sin(2 * np.pi * (300 + 40 * np.sin(2 * np.pi * 0.5 * t)) * t)
    right = 0.6 * np.sin(2 * np.pi * 1234 * t + 0.3) * (1 - 0.5 * swell)
    return (0.7 * np.stack([left, right], 1)).astype(np.float32)


def assert_close(got, expected, atol=1e-6):
    """Same shape, every sample within `atol` (assert_allclose takes seconds on 3-minute window stacks)."""
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max(initial=0.0)) <= atol


def windows_of(stream, length, hop, pad_last=True, batch=16):
    batches = list(batched_windows(stream, length, hop, batch, pad_last))
    assert [first for first, _ in batches] == list(range(0, batch * len(batches), batch))
    assert all(len(w) == batch for _, w in batches[:-1])
    return np.concatenate([w for _, w in batches]) if batches else np.zeros((0, length), np.float32)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 2.5 s and a 3-minute stereo 44.1 kHz recording in each of wav, flac and mp3."""
    root = tmp_path_factory.mktemp("stream")
    made = {}
    for name, seconds in [("short", 2.5), ("long", 180.0)]:
        audio = stereo(seconds)
        for ext in (".wav", ".flac", ".mp3"):
            made[name, ext] = write_audio(root / f"{name}{ext}", audio.T, SR_IN)
    return made


@pytest.mark.parametrize("sr", [16000, 22050, None])
@pytest.mark.parametrize("mono", [True, False])
def test_streamed_blocks_equal_the_whole_file_at_any_block_size(files, sr, mono):
    whole, _ = load_audio(files["short", ".wav"], sr=sr, mono=mono)
    for block_frames in (1000, 4097, 11025, 1 << 16):  # 11,025 divides the file: a last empty read
        stream = AudioStream(files["short", ".wav"], sr=sr, mono=mono, block_frames=block_frames)
        blocks = list(stream)
        assert all(b.shape[:-1] == whole.shape[:-1] and b.dtype == np.float32 for b in blocks)
        streamed = np.concatenate(blocks, axis=-1)
        assert streamed.shape == whole.shape and stream.samples == whole.shape[-1]  # total length too
        assert_close(streamed, whole)
        edges = np.cumsum([b.shape[-1] for b in blocks])[:-1]  # samples either side of each block boundary
        near = np.concatenate([np.arange(e - 3, e + 3) for e in edges])
        assert_close(streamed[..., near], whole[..., near])


@pytest.mark.parametrize("name", ["short", "long"])
@pytest.mark.parametrize("ext", [".wav", ".flac", ".mp3"])
@pytest.mark.parametrize("sr", [16000, 22050])
def test_streamed_windows_equal_the_whole_file_windows(files, name, ext, sr):
    whole, _ = load_audio(files[name, ext], sr=sr)
    stream = AudioStream(files[name, ext], sr=sr)
    blocks = list(stream)  # decoded once, windowed four ways
    assert len(blocks) > 1 and max(map(len, blocks)) < stream.block_frames  # one read's worth at a time
    length = sr  # one-second windows (LEAN); Lin's 10 s windows are cut the same way
    for overlap in (0.0, 0.5, 0.75):
        hop = window_hop(length, overlap)
        expected = sliding_windows(whole, length, overlap)
        assert len(expected) == window_count(len(whole), length, hop)
        assert_close(windows_of(iter(blocks), length, hop), expected)
    got = windows_of(iter(blocks), length, length // 4, pad_last=False)
    assert_close(got, fixed_clips(whole, length, length // 4))


@pytest.mark.parametrize("n", [1, 7, 9, 10, 11, 24, 25, 26, 100, 203])
def test_windows_cut_from_any_split_match_the_segment_functions(n):
    rng = np.random.default_rng(n)
    signal = rng.standard_normal(n).astype(np.float32)
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, 4), replace=False)) if n > 1 else []
    blocks = np.split(signal, cuts)
    for length, overlap in [(10, 0.5), (10, 0.0), (10, 0.9), (3, 0.34), (1, 0.0)]:
        hop = window_hop(length, overlap)
        for batch in (1, 2, 5, 64):
            got = windows_of(iter(blocks), length, hop, batch=batch)
            np.testing.assert_array_equal(got, sliding_windows(signal, length, overlap))
    for length, hop in [(10, 3), (10, 10), (4, 9)]:
        got = windows_of(iter(blocks), length, hop, pad_last=False, batch=2)
        np.testing.assert_array_equal(got, fixed_clips(signal, length, hop))


def test_window_arguments_are_checked():
    with pytest.raises(ValueError, match="hop <= length"):
        next(batched_windows([np.zeros(20, np.float32)], 4, 5))
    with pytest.raises(ValueError, match="mono"):
        next(batched_windows([np.zeros((2, 20), np.float32)], 4, 2))


@pytest.mark.parametrize("sr", [16000, 22050])
def test_a_streamed_span_equals_the_whole_file_slice(files, sr):
    whole, _ = load_audio(files["long", ".flac"], sr=sr)
    for offset, duration in [(0.0, 3.0), (61.237, 10.0), (175.5, 30.0), (120.0, None)]:
        stream = AudioStream(files["long", ".flac"], sr=sr, offset=offset, duration=duration, block_frames=5000)
        got = np.concatenate(list(stream))
        start = round(offset * sr)
        expected = whole[start : None if duration is None else start + round(duration * sr)]
        assert_close(got, expected, atol=1e-5)  # see test_io for why spans get 1e-5
        spanned, _ = load_audio(files["long", ".flac"], sr=sr, offset=offset, duration=duration)
        assert_close(got, spanned)
        assert not stream.status.truncated


def cut_in_half(path, out):
    data = path.read_bytes()
    out.write_bytes(data[: len(data) // 2 + 7])  # + 7: mid-sample for a wav, mid-frame for an mp3
    return out


@pytest.mark.parametrize("ext", [".wav", ".mp3"])
def test_a_truncated_file_yields_the_windows_it_has_and_says_where_it_stopped(files, tmp_path, ext):
    path = cut_in_half(files["long", ext], tmp_path / f"cut{ext}")
    decoded, _ = load_audio(path, sr=None)
    seconds = len(decoded) / SR_IN
    assert 80 < seconds < 95  # about half of the 3 minutes
    if ext == ".wav":
        assert len(decoded) == (path.stat().st_size - 44) // 4  # whole 16-bit stereo frames after the header
    whole, _ = load_audio(path, sr=16000)
    stream = AudioStream(path, sr=16000)
    assert_close(windows_of(stream, 16000, 8000), sliding_windows(whole, 16000, 0.5))
    status = stream.status
    assert status.truncated and status.seconds == pytest.approx(seconds)
    assert status.header_seconds == pytest.approx(180.0)
    assert status.note() == f"{path}: truncated: audio stops at 1:{seconds - 60:04.1f} of 3:00.0"
    complete = AudioStream(files["long", ext], sr=16000)
    list(complete)
    assert not complete.status.truncated and complete.status.seconds == pytest.approx(180.0)


def test_a_decoder_error_mid_stream_names_the_file_and_the_time(files, tmp_path):
    path = cut_in_half(files["long", ".flac"], tmp_path / "cut.flac")
    stream = AudioStream(path, sr=16000)
    got = []
    with pytest.raises(AudioError) as info:
        for block in stream:
            got.append(block)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot decode audio after ") and "\n" not in message
    assert sum(map(len, got)) > 60 * 16000  # the blocks before the damage came through


def test_nan_in_a_late_block_is_refused_naming_the_file(tmp_path):
    audio = stereo(3.0)
    audio[2 * SR_IN, 1] = np.inf
    path = tmp_path / "inf.wav"
    sf.write(path, audio, SR_IN, subtype="FLOAT")
    got = []
    with pytest.raises(AudioError) as info:
        for block in AudioStream(path, sr=16000, block_frames=4096):
            got.append(block)
    assert str(info.value) == f"{path}: holds NaN or infinite samples"
    assert 20000 < sum(map(len, got)) < 2 * 16000  # the blocks before the bad sample came through
    with pytest.raises(AudioError, match="NaN or infinite"):
        scan_audio(path)


def test_bad_paths_and_spans_raise_one_line(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="zero-length"):
        AudioStream(empty)
    with pytest.raises(AudioError, match="no such file"):
        AudioStream(tmp_path / "missing.flac")
    short = write_audio(tmp_path / "short.wav", stereo(1.0).T, SR_IN)
    with pytest.raises(AudioError) as info:
        AudioStream(short, offset=2.0)
    assert str(info.value) == f"{short}: offset 2 s is past the end (0:01.0)"


def test_scan_validates_a_file_without_resampling(files, tmp_path):
    status = scan_audio(files["short", ".flac"])
    assert status.seconds == pytest.approx(2.5) and not status.truncated
    cut = scan_audio(cut_in_half(files["long", ".wav"], tmp_path / "cut.wav"))
    assert cut.truncated and cut.seconds == pytest.approx(90.0, abs=0.01)


def test_streaming_memory_does_not_grow_with_the_file(tmp_path):
    """Ten minutes of 44.1 kHz stereo is 212 MB as float32; streaming it holds a block and a batch."""
    path, minutes = tmp_path / "long.wav", 10
    second = stereo(1.0)
    with sf.SoundFile(path, "w", SR_IN, 2, subtype="PCM_16") as fh:
        for _ in range(60 * minutes):
            fh.write(second)
    decoded_bytes = 60 * minutes * SR_IN * 2 * 4
    bound = decoded_bytes // 10

    tracemalloc.start()
    try:
        stream = AudioStream(path, sr=16000)
        count = sum(len(w) for _, w in batched_windows(stream, 16000, 8000, batch=32))
        _, streamed_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        audio, _ = load_audio(path, sr=16000)
        _, whole_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == len(sliding_windows(audio, 16000, 0.5)) == 2 * 60 * minutes - 1
    assert streamed_peak < bound < whole_peak


def test_prefetch_computes_ahead_in_a_thread_and_hands_over_its_error():
    made, consumer = [], threading.get_ident()

    def items():
        for i in range(5):
            made.append(threading.get_ident())
            yield i
        raise AudioError("x.wav", "cannot decode audio after 0:03.0")

    got = []
    with pytest.raises(AudioError, match="x.wav: cannot decode audio after 0:03.0"):
        for item in prefetch(items(), depth=2):
            got.append(item)
    assert got == [0, 1, 2, 3, 4] and consumer not in made and len(set(made)) == 1


def test_leaving_a_prefetch_early_stops_its_thread():
    made, before = [], threading.active_count()

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    ahead = prefetch(endless(), depth=3)
    assert [next(ahead) for _ in range(4)] == [0, 1, 2, 3]
    ahead.close()
    assert threading.active_count() == before and 4 <= len(made) <= 4 + 3 + 1  # consumed, queued, in hand
