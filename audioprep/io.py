"""Audio file loading and writing: any of wav/flac/ogg/mp3, mono or stereo, resampled, float32 in [-1, 1].

`load_audio` decodes a whole file, or only a span of it (offset/duration: seeking to it, or for mp3
decoding up to it); block-by-block decoding of long files is `audioprep.stream`, which shares the
span arithmetic, reads and checks here.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from audioprep.errors import AudioError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
# Context decoded beyond each edge of a span, in samples at the lower of the two rates. soxr's HQ
# filter disturbs about 90 output samples at a signal edge (236 when upsampling 16 -> 44.1 kHz);
# 512 keeps that transient in samples that are thrown away, so a span matches the whole-file result.
EDGE_CONTEXT = 512
MP3_FRAME = 1152  # samples per MPEG-1 layer III frame: the slack of a decoder's gapless trimming


def is_audio_file(path) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def _undecodable(path: Path, err: Exception) -> AudioError:
    """libsndfile's message repeats the path, and for a garbled mp3 it says the file does not exist."""
    detail = str(err).replace(f"Error opening {str(path)!r}: ", "")
    if "does not exist" in detail:  # the caller checked that it does
        detail = "not a recognised audio format"
    return AudioError(path, f"cannot decode audio: {detail}")


def _check_path(path: Path) -> None:
    """The file is there, a file, not empty and readable (libsndfile would call an unreadable file a
    "System error")."""
    try:
        if not path.exists():
            raise AudioError(path, "no such file")
        if path.is_dir():
            raise AudioError(path, "is a folder, not an audio file")
        if path.stat().st_size == 0:
            raise AudioError(path, "empty file (0 bytes)")
        open(path, "rb").close()
    except PermissionError:
        raise AudioError(path, "permission denied") from None


class AudioFile(sf.SoundFile):
    """A libsndfile handle that reads forward only, seeking just where asked and where seeking is exact.

    python-soundfile seeks back to its own idea of the position after every read. For mp3 that seek
    (mpg123's) lands on the wrong samples (errors up to 0.12 measured here), which corrupts every block
    after the first; so `seekable()` says no, and `can_seek()` says whether an explicit seek is exact.
    """

    def seekable(self) -> bool:
        return False

    def can_seek(self) -> bool:
        return super().seekable() and self.format != "MP3"


_STDERR = threading.Lock()  # one redirection of file descriptor 2 at a time (prefetch threads open files too)


@contextmanager
def _quiet_stderr():
    """Send what C libraries write straight to file descriptor 2 to /dev/null for the duration."""
    with _STDERR:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def open_audio(path) -> AudioFile:
    """An open handle (use it as a context manager); AudioError naming the file if unusable.

    mpg123 writes notes to file descriptor 2 while it opens an mp3: "No extra frame text" for an
    ID3 frame without text (common in tagged files that decode fine), "Xing stream size off" for a
    cut file. Neither is an error for the user: a truncation is reported once, by
    `audioprep.stream.DecodeStatus.note()`, and a real decoder error still raises AudioError.
    """
    path = Path(path)
    _check_path(path)
    try:
        if path.suffix.lower() != ".mp3":
            return AudioFile(str(path))
        with _quiet_stderr():
            return AudioFile(str(path))
    except Exception as err:  # noqa: BLE001 - libsndfile raises several types for bad input
        raise _undecodable(path, err) from err


def clock(seconds: float) -> str:
    """1:02:03.4 / 2:03.4: a position in a recording as a person reads it."""
    minutes, tenths = divmod(round(float(seconds) * 10), 600)
    hours, minutes = divmod(minutes, 60)
    secs = f"{tenths // 10:02d}.{tenths % 10}"
    return f"{hours}:{minutes:02d}:{secs}" if hours else f"{minutes}:{secs}"


def read_frames(fh: AudioFile, path: Path, frames: int, at: int = 0) -> np.ndarray:
    """Up to `frames` frames (-1: all) from frame `at` on as (n, channels) float32; a decoder error
    becomes AudioError saying where."""
    try:
        data = fh.read(fh.frames - at if frames < 0 else frames, dtype="float32", always_2d=True)
    except Exception as err:  # noqa: BLE001 - libsndfile raises several types for bad input
        detail = str(err).removeprefix("Error : ").rstrip(".")
        raise AudioError(path, f"cannot decode audio after {clock(at / fh.samplerate)}: {detail}") from err
    if not np.isfinite(data).all():
        raise AudioError(path, "holds NaN or infinite samples")
    return data


def seek_frame(fh: AudioFile, path: Path, frame: int, block: int = 1 << 16) -> int:
    """Go to `frame` (or the end) from the start, seeking where that is exact and decoding up to it
    where it is not (mp3); returns the frame reached."""
    if fh.can_seek():
        return fh.seek(min(frame, fh.frames))
    at = 0
    while at < frame and len(skipped := read_frames(fh, path, min(block, frame - at), at)):
        at += len(skipped)
    return at


def downmix(frames: np.ndarray) -> np.ndarray:
    """(n, channels) -> (n,) channel mean, computed the same way for a whole file and for a block.
    Stereo adds the two columns: the same values as numpy's mean, 7x faster than its strided reduction."""
    if frames.shape[1] == 2:
        return (frames[:, 0] + frames[:, 1]) / np.float32(2)
    return frames.T.mean(axis=0)


def header_frames(fh: AudioFile) -> int:
    """Frames the file's header promises. For a wav that is the data chunk's size, which libsndfile
    silently shortens to what a cut file holds; elsewhere libsndfile's count (an mp3's Xing header)."""
    if fh.format != "WAV":
        return fh.frames
    with open(fh.name, "rb") as raw:
        if raw.read(12)[8:] != b"WAVE":
            return fh.frames
        align = 0
        while len(head := raw.read(8)) == 8:
            kind, size = struct.unpack("<4sI", head)
            if kind == b"fmt ":
                align = struct.unpack("<12xH", raw.read(14))[0]
                raw.seek(size - 14 + size % 2, 1)
            elif kind == b"data":
                unknown = size in (0, 0xFFFFFFFF) or align == 0  # streamed writers leave the size open
                return fh.frames if unknown else max(fh.frames, size // align)
            else:
                raw.seek(size + size % 2, 1)
    return fh.frames


@dataclass(frozen=True)
class Span:
    """What to decode for output samples [start, start + count) at the target rate.

    Decoding starts `skip` output samples early, at an input frame that lies on the output sample grid
    (a multiple of orig_sr / gcd), and runs EDGE_CONTEXT past the end, so the resampled span equals
    the same samples of the whole-file result up to float rounding. count None: to the end of the file.
    """

    first_frame: int
    stop_frame: int | None
    skip: int
    count: int | None


def span(offset: float, duration: float | None, orig_sr: int, sr: int) -> Span:
    """The Span of `duration` seconds (None: the rest) from `offset` of a file at orig_sr, read at sr."""
    if offset < 0 or (duration is not None and duration <= 0):
        raise ValueError(f"offset must be >= 0 and duration > 0, got {offset}, {duration}")
    start = round(offset * sr)
    count = None if duration is None else round(duration * sr)
    if count == 0:
        raise ValueError(f"duration {duration} s is shorter than one sample at {sr} Hz")
    if orig_sr == sr:
        return Span(start, None if count is None else start + count, 0, count)
    g = math.gcd(orig_sr, sr)
    period_in, period_out = orig_sr // g, sr // g  # input frames and output samples that share a start
    context_out = math.ceil(EDGE_CONTEXT * sr / min(orig_sr, sr))
    first = max(0, start // period_out - math.ceil(context_out / period_out))
    stop = None
    if count is not None:
        context_in = math.ceil(EDGE_CONTEXT * orig_sr / min(orig_sr, sr))
        stop = math.ceil((start + count) * orig_sr / sr) + context_in
    return Span(first * period_in, stop, start - first * period_out, count)


def check_offset(fh: AudioFile, path: Path, offset: float) -> None:
    if fh.frames == 0:
        raise AudioError(path, "holds no samples (zero-length audio)")
    if offset * fh.samplerate >= fh.frames:
        raise AudioError(path, f"offset {offset:g} s is past the end ({clock(fh.frames / fh.samplerate)})")


def _read(path: Path) -> tuple[np.ndarray, int]:
    with open_audio(path) as fh:
        data = read_frames(fh, path, -1)
        sr = fh.samplerate
    if data.shape[0] == 0:
        raise AudioError(path, "holds no samples (zero-length audio)")
    return data, int(sr)


def _read_span(path: Path, sr: int | None, offset: float, duration: float | None) -> tuple[np.ndarray, int, Span]:
    with open_audio(path) as fh:
        orig_sr = int(fh.samplerate)
        check_offset(fh, path, offset)
        part = span(offset, duration, orig_sr, sr or orig_sr)
        at = seek_frame(fh, path, part.first_frame)
        data = read_frames(fh, path, -1 if part.stop_frame is None else part.stop_frame - at, at)
    return data, orig_sr, part


def resample(audio: np.ndarray, orig_sr: int, sr: int) -> np.ndarray:
    """Resample along the last axis with soxr (high quality, fast)."""
    if orig_sr == sr:
        return audio
    if audio.ndim == 1:
        return soxr.resample(audio, orig_sr, sr).astype(np.float32)
    return soxr.resample(audio.T, orig_sr, sr).T.astype(np.float32)


def load_audio(path, sr: int | None = None, mono: bool = True, offset: float = 0.0,
               duration: float | None = None) -> tuple[np.ndarray, int]:
    """Load a file as float32: mono -> (n,), else (channels, n); resampled to `sr` when given.

    With `offset`/`duration` (seconds) only that span is decoded: output samples
    [round(offset * sr), + round(duration * sr)), equal to slicing the whole-file result within 1e-5.
    """
    path = Path(path)
    if offset == 0 and duration is None:
        data, orig_sr = _read(path)
        part = Span(0, None, 0, None)
    else:
        data, orig_sr, part = _read_span(path, sr, offset, duration)
    data = downmix(data) if mono else data.T
    target = sr or orig_sr
    data = resample(np.ascontiguousarray(data), orig_sr, target)
    stop = None if part.count is None else part.skip + part.count
    data = data[..., part.skip : stop]
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
    with open_audio(path) as fh:
        return float(fh.frames) / float(fh.samplerate)


def file_sha256(path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks (catalogue content keys, shard checksums, copies)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
