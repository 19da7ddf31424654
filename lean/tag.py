"""Tag a recording of any length: 1 s windows with 50 % overlap, streamed in batches, top labels over time.

Windows and their times are `audioprep.segment`'s (`batched_windows`, `window_bounds`), the ones
evaluation scores. A file is decoded block by block in a thread while the model scores the previous
batch, and only each window's top labels are kept, so memory does not grow with the recording's
length beyond the rows returned.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextlib import closing

import numpy as np

from audioprep.quality import check_quality
from audioprep.segment import batched_windows, window_bounds, window_hop
from audioprep.stream import AudioStream, prefetch
from lean.params import LeanParams


def tag_blocks(scorer, blocks: Iterable[np.ndarray], params: LeanParams = LeanParams(), top: int = 5) -> list[dict]:
    """One entry per window of the concatenated mono blocks: start/end seconds and the `top` labels with their scores."""
    length = params.patch_samples
    hop = window_hop(length, params.chunk_overlap)
    total = 0

    def counted():
        nonlocal total
        for block in blocks:
            total += len(block)
            yield block

    best, scores = [], []
    with closing(prefetch(batched_windows(counted(), length, hop))) as batches:  # the thread stops on an error
        for _, windows in batches:
            rows = scorer(windows)
            picks = np.argsort(rows, axis=1)[:, ::-1][:, :top]
            best.append(picks)
            scores.append(np.take_along_axis(rows, picks, axis=1))
    best, scores = np.concatenate(best), np.concatenate(scores)
    # a clip shorter than a window is tagged as one whole window, its end one window after the start
    starts, ends = window_bounds(len(best), length, hop, params.sample_rate, total=max(total, length))
    return [
        {
            "start": round(float(start), 3),
            "end": round(float(end), 3),
            "labels": [{"label": scorer.labels[j], "score": round(float(s), 4)}
                       for j, s in zip(labels, values, strict=True)],
        }
        for start, end, labels, values in zip(starts, ends, best, scores, strict=True)
    ]


def tag_audio(scorer, audio: np.ndarray, params: LeanParams = LeanParams(), top: int = 5) -> list[dict]:
    return tag_blocks(scorer, (audio,), params, top)


def tag_file(scorer, path, params: LeanParams = LeanParams(), top: int = 5) -> list[dict]:
    """The file's rows, decoded as a stream; a file too short, silent or cut short (tagged as far as it
    goes) is said so on stderr."""
    stream = AudioStream(path, sr=params.sample_rate)
    rows = tag_blocks(scorer, stream, params, top)
    for line in check_quality(stream.status, params.patch_samples / params.sample_rate).warnings:
        print(f"warning: {line}", file=sys.stderr)
    return rows


def format_rows(rows: list[dict]) -> str:
    return "\n".join(
        f"{r['start']:8.2f}-{r['end']:<8.2f} " + ", ".join(f"{x['label']} ({x['score']:.2f})" for x in r["labels"]) for r in rows
    )
