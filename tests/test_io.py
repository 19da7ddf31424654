"""audioprep.io: formats, channels, resampling and one-line errors naming the file."""

import numpy as np
import pytest
import soundfile as sf

from audioprep.errors import AudioError
from audioprep.io import duration_seconds, load_audio, write_audio


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
