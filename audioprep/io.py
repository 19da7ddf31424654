"""Audio file loading and writing: any of wav/flac/ogg/mp3, mono or stereo, resampled, float32 in [-1, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from audioprep.errors import AudioError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


def is_audio_file(path) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def _undecodable(path: Path, err: Exception) -> AudioError:
    """libsndfile's message repeats the path, and for a garbled mp3 it says the file does not exist."""
    detail = str(err).replace(f"Error opening {str(path)!r}: ", "")
    if "does not exist" in detail:  # the caller checked that it does
        detail = "not a recognised audio format"
    return AudioError(path, f"cannot decode audio: {detail}")


def _read(path: Path) -> tuple[np.ndarray, int]:
    if not path.exists():
        raise AudioError(path, "no such file")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # noqa: BLE001 - libsndfile raises several types for bad input
        raise _undecodable(path, err) from err
    if data.shape[0] == 0:
        raise AudioError(path, "holds no samples (zero-length audio)")
    if not np.isfinite(data).all():
        raise AudioError(path, "holds NaN or infinite samples")
    return data.T, int(sr)


def resample(audio: np.ndarray, orig_sr: int, sr: int) -> np.ndarray:
    """Resample along the last axis with soxr (high quality, fast)."""
    if orig_sr == sr:
        return audio
    if audio.ndim == 1:
        return soxr.resample(audio, orig_sr, sr).astype(np.float32)
    return soxr.resample(audio.T, orig_sr, sr).T.astype(np.float32)


def load_audio(path, sr: int | None = None, mono: bool = True) -> tuple[np.ndarray, int]:
    """Load a file as float32: mono -> (n,), else (channels, n); resampled to `sr` when given."""
    path = Path(path)
    data, orig_sr = _read(path)
    if mono:
        data = data.mean(axis=0)
    target = sr or orig_sr
    data = resample(np.ascontiguousarray(data), orig_sr, target)
    return np.clip(data, -1.0, 1.0).astype(np.float32, copy=False), target


def write_audio(path, audio: np.ndarray, sr: int, subtype: str | None = None) -> Path:
    """Write (n,) or (channels, n) float audio; the format follows the extension."""
    path = Path(path)
    if path.suffix.lower() not in AUDIO_EXTENSIONS:
        raise AudioError(path, f"unsupported extension; use one of {', '.join(AUDIO_EXTENSIONS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    frames = audio.T if audio.ndim == 2 else audio
    sf.write(str(path), frames, int(sr), subtype=subtype)
    return path


def duration_seconds(path) -> float:
    """Duration from the header, without decoding; AudioError if unreadable."""
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "no such file")
    try:
        info = sf.info(str(path))
    except Exception as err:  # noqa: BLE001
        raise _undecodable(path, err) from err
    return float(info.frames) / float(info.samplerate)
