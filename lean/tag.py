"""Tag a recording of any length: 1 s windows with 50 % overlap, streamed in batches, top labels over time.

Windows and their times are `audioprep.segment`'s (`stream_windows`, `window_bounds`), the ones
evaluation scores; only one batch of them is in memory at a time.
"""

from __future__ import annotations

import numpy as np

from audioprep.io import load_audio
from audioprep.segment import stream_windows, window_bounds, window_count, window_hop
from lean.params import LeanParams


def tag_audio(scorer, audio: np.ndarray, params: LeanParams = LeanParams(), top: int = 5) -> list[dict]:
    """One entry per window: start/end seconds and the `top` labels with their scores."""
    length, overlap = params.patch_samples, params.chunk_overlap
    hop = window_hop(length, overlap)
    # a clip shorter than a window is tagged as one whole window, its end one window after the start
    starts, ends = window_bounds(window_count(len(audio), length, hop), length, hop, params.sample_rate,
                                 total=max(len(audio), length))
    rows = []
    for first, windows in stream_windows(audio, length, overlap):
        for i, row in enumerate(scorer(windows), start=first):
            best = np.argsort(row)[::-1][:top]
            rows.append(
                {
                    "start": round(float(starts[i]), 3),
                    "end": round(float(ends[i]), 3),
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
