"""Listening to a catalogued segment: exactly its frames, cut from the recording server-side.

The wav is made while it is sent: 16-bit PCM at the file's own rate with its channels, decoded by
`AudioStream` from the segment's first frame, a block at a time, so a segment hours long costs no
more memory than a short one. A byte range (what an <audio> element asks for when a listener seeks)
decodes only the frames it covers. The segment's mel image and the per-window confidence around it come
from the same span of the file and from the recording's stored float16 window probabilities, with each
window's verdict as `predict` gives it (the abstain label under the recording's threshold, `silent` for
digital silence).
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmr_audioset.abstain import OTHER
from asmr_classify.predict import Timeline
from audioprep.errors import AudioError
from audioprep.features import log_mel
from audioprep.io import load_audio, open_audio
from audioprep.params import MelSliceParams
from audioprep.segment import repeat_pad
from audioprep.stream import AudioStream

HEADER = 44  # bytes of a canonical PCM wav header
SAMPLE_BYTES = 2


@dataclass(frozen=True)
class Clip:
    """Frames [first_frame, first_frame + frames) of a recording, as a wav of `size` bytes."""

    path: Path
    first_frame: int
    frames: int
    rate: int
    channels: int

    @property
    def align(self) -> int:
        return self.channels * SAMPLE_BYTES

    @property
    def size(self) -> int:
        return HEADER + self.frames * self.align

    def header(self) -> bytes:
        data = self.frames * self.align
        return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + data, b"WAVE", b"fmt ", 16, 1, self.channels,
                           self.rate, self.rate * self.align, self.align, 8 * SAMPLE_BYTES, b"data", data)


def clip(path, start: float, end: float) -> Clip:
    """The segment start..end seconds of `path` at the file's rate; AudioError if the file is gone,
    unreadable, or no longer reaches the segment (changed since it was catalogued)."""
    path = Path(path)
    with open_audio(path) as fh:
        rate, channels, frames = int(fh.samplerate), int(fh.channels), int(fh.frames)
    first, stop = min(round(start * rate), frames), min(round(end * rate), frames)
    if stop <= first:
        raise AudioError(path, f"ends before the segment {start:.2f}-{end:.2f} s (changed since it was catalogued?)")
    return Clip(path, first, stop - first, rate, channels)


def pcm16(block: np.ndarray) -> bytes:
    """(channels, n) float samples -> interleaved little-endian 16-bit PCM."""
    return np.round(np.clip(block.T, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def wav_bytes(c: Clip, first: int = 0, last: int | None = None) -> Iterator[bytes]:
    """Bytes first..last (inclusive) of the clip's wav, decoding only the frames they cover."""
    last = c.size - 1 if last is None else last
    if first < HEADER:
        yield c.header()[first:last + 1]
    if last < HEADER:
        return
    lo = max(first - HEADER, 0) // c.align
    hi = (last - HEADER) // c.align + 1
    skip = max(first - HEADER, 0) - lo * c.align  # bytes of the first frame before `first`
    left = last + 1 - max(first, HEADER)
    stream = AudioStream(c.path, mono=False, offset=(c.first_frame + lo) / c.rate, duration=(hi - lo) / c.rate)
    for block in stream:
        data = pcm16(block)[skip:skip + left]
        skip, left = 0, left - len(data)
        yield data
        if left == 0:
            return
    # the data ran out before the header's frame count (a file cut short after it was opened):
    # silence keeps the response the length its headers promised
    yield bytes(left)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` Range header; None for no or an unusable header (send it all);
    ValueError when the range lies past the end (416)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].strip().partition("-")
    try:
        if first == "":
            first, last = max(size - int(last), 0), size - 1  # the last N bytes
        else:
            first, last = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if first >= size or first > last:
        raise ValueError(f"bytes {first}-{last} lie outside 0-{size - 1}")
    return first, last


def mel_png(audio: np.ndarray, title: str, params: MelSliceParams = MelSliceParams()) -> bytes:
    """A log-mel image of mono audio at `params.sample_rate`: seconds along x, mel bands up. Drawn on a
    Figure of its own (no pyplot state), so requests can draw at the same time."""
    from matplotlib.figure import Figure

    audio = repeat_pad(np.asarray(audio, np.float32), params.n_fft) if len(audio) < params.n_fft else audio
    mel = log_mel(audio[None], params)[0]
    fig = Figure(figsize=(6.0, 2.0), dpi=80)
    ax = fig.subplots()
    ax.imshow(mel.T, origin="lower", aspect="auto", cmap="magma",
              extent=(0.0, len(audio) / params.sample_rate, 0, params.n_mels))
    ax.set_xlabel("seconds", fontsize=8)
    ax.set_ylabel("mel band", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def segment_mel_png(path, start: float, end: float, seconds: float, params: MelSliceParams = MelSliceParams()) -> bytes:
    """The mel image of the segment's first `seconds` at most."""
    shown = min(end - start, seconds)
    audio, _ = load_audio(path, sr=params.sample_rate, offset=start, duration=shown)
    cut = "" if shown >= end - start else f" (first {shown:g} s)"
    return mel_png(audio, f"{Path(path).name} {start:.1f}-{end:.1f} s{cut}", params)


def confidence_around(conn: sqlite3.Connection, segment_id: int, context: float, max_points: int) -> dict | None:
    """The stored per-window probability of the segment's label from `context` seconds before it to
    `context` after, with each window's verdict; only those windows' bytes are read from the blobs. A
    segment labelled `other`, `unsure` or `silent` (no class of the model) shows each window's top
    probability instead, against the recording's abstain threshold."""
    row = conn.execute(
        "SELECT s.start, s.end, s.label, r.classes, r.sample_rate, r.window_samples, r.hop_samples, r.samples, "
        "length(r.probabilities), r.abstain, r.abstain_label FROM segments s JOIN recordings r "
        "ON r.id = s.recording_id WHERE s.id = ?", (segment_id,)).fetchone()
    if row is None:
        return None
    start, end, label, classes, sr, window, hop, samples, blob_bytes, abstain, abstain_label = row
    classes = json.loads(classes)
    row_bytes = 2 * len(classes)
    count = blob_bytes // row_bytes
    first = max(0, math.floor((start - context) * sr / hop))
    stop = min(count, math.ceil((end + context) * sr / hop))
    blob, silent = conn.execute(
        "SELECT substr(probabilities, ?, ?), substr(silent_windows, ?, ?) FROM recordings r JOIN segments s "
        "ON s.recording_id = r.id WHERE s.id = ?",
        (first * row_bytes + 1, (stop - first) * row_bytes, first + 1, stop - first, segment_id)).fetchone()
    stride = max(1, math.ceil((stop - first) / max_points))
    probs = np.frombuffer(blob, "<f2").reshape(-1, len(classes))[::stride].astype(np.float64)
    silent = None if silent is None else np.frombuffer(silent, np.uint8)[::stride].astype(bool)
    verdicts, top = Timeline(probs, classes, sr, window, hop, samples, silent=silent, abstain=abstain or 0.0,
                             abstain_label=abstain_label or OTHER).verdicts()
    index = np.arange(first, stop, stride)
    centres = np.minimum(index * hop + window / 2, samples) / sr
    of_label = label in classes
    return {"label": label, "start": start, "end": end, "times": centres.round(3).tolist(),
            "measure": f"p({label})" if of_label else "top probability",
            "confidence": (probs[:, classes.index(label)] if of_label else top).round(4).tolist(),
            "top": verdicts, "abstain": abstain}
