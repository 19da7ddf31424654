"""Tag a recording of any length: 1 s windows with 50 % overlap, streamed in batches, top labels over time.

Windows follow `audioprep.segment.sliding_windows` (the last one repeat-padded; a clip shorter than
1 s is one repeated window), but only one batch of them is in memory at a time, so an hour-long
file costs no more memory than its samples.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from audioprep.io import load_audio
from audioprep.segment import repeat_pad, window_hop
from lean.params import LeanParams


def stream_windows(audio: np.ndarray, length: int, overlap: float, batch: int = 64) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index of the first window, (k, length) windows) covering the signal like `sliding_windows`."""
    hop = window_hop(length, overlap)
    if len(audio) <= length:
        yield 0, repeat_pad(audio, length)[None]
        return
    count = 1 + int(np.ceil((len(audio) - length) / hop))
    for first in range(0, count, batch):
        last = min(count, first + batch)
        start, end = first * hop, (last - 1) * hop + length
        piece = audio[start:end]
        if len(piece) < end - start:
            piece = np.concatenate([piece, repeat_pad(audio, end - start - len(piece))])
        yield first, np.lib.stride_tricks.sliding_window_view(piece, length)[::hop][: last - first]


def tag_audio(scorer, audio: np.ndarray, params: LeanParams = LeanParams(), top: int = 5) -> list[dict]:
    """One entry per window: start/end seconds and the `top` labels with their scores."""
    sr, length = params.sample_rate, params.patch_samples
    hop = window_hop(length, params.chunk_overlap)
    rows = []
    for first, windows in stream_windows(audio, length, params.chunk_overlap):
        scores = scorer(windows)
        for i, row in enumerate(scores):
            start = (first + i) * hop
            best = np.argsort(row)[::-1][:top]
            rows.append(
                {
                    "start": round(start / sr, 3),
                    "end": round(min(start + length, max(len(audio), length)) / sr, 3),
                    "labels": [{"label": scorer.labels[j], "score": round(float(row[j]), 4)} for j in best],
                }
            )
    return rows


def tag_file(scorer, path, params: LeanParams = LeanParams(), top: int = 5) -> list[dict]:
    audio, _ = load_audio(path, sr=params.sample_rate)
    return tag_audio(scorer, audio, params, top)


def format_rows(rows: list[dict]) -> str:
    return "\n".join(
        f"{r['start']:8.2f}-{r['end']:<8.2f} " + ", ".join(f"{x['label']} ({x['score']:.2f})" for x in r["labels"]) for r in rows
    )
