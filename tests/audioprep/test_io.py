"""audioprep.io: formats, channels, resampling and one-line errors naming the file."""

import numpy as np
import pytest
import soundfile as sf

from audioprep.errors import AudioError
from audioprep.io import clock, duration_seconds, header_frames, load_audio, open_audio, write_audio


def sine(freq, sr, seconds, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3"])
def test_round_trip_every_format_keeps_the_tone(tmp_path, ext):
    path = write_audio(tmp_path / f"tone{ext}", sine(440, 16000, 1.0), 16000)
    audio, sr = load_audio(path)
    assert sr == 16000 and audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 16000) < 2000  # mp3 adds encoder padding
    spectrum = np.abs(np.fft.rfft(audio[:16000] if len(audio) >= 16000 else audio))
    peak_hz = spectrum.argmax() * 16000 / (2 * (len(spectrum) - 1))
    assert abs(peak_hz - 440) < 5


def test_stereo_44k_is_downmixed_and_resampled(tmp_path):
    left, right = sine(1000, 44100, 0.5, 0.8), np.zeros(22050, np.float32)
    sf.write(tmp_path / "st.wav", np.stack([left, right], 1), 44100)
    mono, sr = load_audio(tmp_path / "st.wav", sr=16000)
    assert sr == 16000 and mono.shape == (8000,)
    assert np.isclose(np.abs(mono).max(), 0.4, atol=0.02)
    stereo, _ = load_audio(tmp_path / "st.wav", mono=False)
    assert stereo.shape == (2, 22050)
    assert np.abs(stereo[1]).max() == 0


def test_values_stay_in_unit_range(tmp_path):
    write_audio(tmp_path / "loud.wav", sine(200, 8000, 0.2, amp=3.0), 8000)
    audio, _ = load_audio(tmp_path / "loud.wav")
    assert audio.max() <= 1.0 and audio.min() >= -1.0


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"RIFF\x00\x00not really a wave file" * 4), "cannot decode"),
        (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), "zero-length"),
        (lambda p: sf.write(p, np.array([0.1, np.nan, 0.2], np.float32), 16000, subtype="FLOAT"), "NaN"),
    ],
)
def test_bad_files_raise_one_line_naming_the_file(tmp_path, make, reason):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_duration_from_header(tmp_path):
    write_audio(tmp_path / "d.flac", sine(300, 22050, 2.5), 22050)
    assert duration_seconds(tmp_path / "d.flac") == pytest.approx(2.5)


def test_a_garbled_mp3_is_reported_as_undecodable_not_missing(tmp_path):
    path = tmp_path / "clip.mp3"
    path.write_bytes(b"garbage, not an mp3 stream\n")
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert message == f"{path}: cannot decode audio: not a recognised audio format"


def two_tones(seconds, sr=44100):
    """(2, n) stereo with different content per channel, so a misplaced span cannot match by accident."""
    t = np.arange(int(seconds * sr)) / sr
    return np.stack([0.6 * np.sin(2 * np.pi * 330 * t) * (0.5 + 0.4 * np.sin(2 * np.pi * 0.3 * t)),
                     0.4 * np.sin(2 * np.pi * 1500 * t + 1.0)]).astype(np.float32)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3"])
@pytest.mark.parametrize("sr", [None, 16000, 22050])
def test_an_offset_duration_read_equals_slicing_the_whole_file(tmp_path, ext, sr):
    """Within 1e-5 of the slice: the span's decoding starts on the whole file's output sample grid with
    EDGE_CONTEXT samples to spare, so only float rounding differs (the resampler's sums start elsewhere;
    measured <= 1e-6); 1e-5 is a third of one 16-bit step. At the file's own rate the span is exact."""
    path = write_audio(tmp_path / f"tones{ext}", two_tones(12.0), 44100)
    whole, rate = load_audio(path, sr=sr)
    for offset, duration in [(0.0, 1.0), (3.217, 2.5), (11.0, 5.0), (7.5, None)]:
        part, got_rate = load_audio(path, sr=sr, offset=offset, duration=duration)
        start = round(offset * rate)
        expected = whole[start : None if duration is None else start + round(duration * rate)]
        assert got_rate == rate and part.shape == expected.shape
        assert np.abs(part - expected).max() <= (0.0 if sr is None else 1e-5)
    stereo, _ = load_audio(path, sr=sr, mono=False, offset=2.0, duration=1.0)
    assert stereo.shape == (2, rate)


def test_a_span_read_decodes_only_the_span(tmp_path):
    path = write_audio(tmp_path / "long.flac", two_tones(30.0), 44100)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the second half is gone: a whole read fails there
    with pytest.raises(AudioError, match="cannot decode audio after"):
        load_audio(path, sr=16000)
    part, _ = load_audio(path, sr=16000, offset=2.0, duration=3.0)
    assert part.shape == (48000,) and np.abs(part).max() > 0.1


def test_spans_outside_the_file_are_refused(tmp_path):
    path = write_audio(tmp_path / "short.wav", two_tones(1.5), 44100)
    with pytest.raises(AudioError) as info:
        load_audio(path, offset=1.5, duration=1.0)
    assert str(info.value) == f"{path}: offset 1.5 s is past the end (0:01.5)"
    with pytest.raises(ValueError, match="duration > 0"):
        load_audio(path, offset=0.5, duration=0.0)
    tail, _ = load_audio(path, sr=16000, offset=1.0, duration=10.0)  # a duration past the end stops there
    assert tail.shape == (8000,)


def test_the_header_length_of_a_cut_wav_is_what_the_header_says(tmp_path):
    path = write_audio(tmp_path / "cut.wav", two_tones(4.0), 44100)
    path.write_bytes(path.read_bytes()[:100_044])  # 44-byte header + 25,000 16-bit stereo frames
    with open_audio(path) as fh:
        assert fh.frames == 25_000 and header_frames(fh) == 4 * 44100


def test_clock_reads_like_a_player():
    assert [clock(s) for s in (0.04, 59.96, 61.25, 3723.4)] == ["0:00.0", "1:00.0", "1:01.2", "1:02:03.4"]
