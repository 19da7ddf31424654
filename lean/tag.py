"""Tag a recording of any length: 1 s windows with 50 % overlap, streamed in batches, top labels over time,
with YAMNet's AudioSet classes beside them.

Windows and their times are `audioprep.segment`'s (`batched_windows`, `window_bounds`), the ones
evaluation scores. A file is decoded block by block in a thread while the model scores the previous
batch, and only each window's top labels are kept, so memory does not grow with the recording's
length beyond the rows returned. Each row's `label` is its top label, `other` when that scores under
the model's abstain threshold (asmr_audioset.abstain), or `silent` for digital silence; `tags` are the
window's best AudioSet classes from a second streamed pass of the bundled YAMNet (asmr_audioset.lite_yamnet).
`summarize` says what the whole file was: the labels most often a window's verdict, and the windows that
abstained.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from contextlib import closing
from dataclasses import asdict

import numpy as np

from asmr_audioset.abstain import OTHER
from asmr_audioset.lite_yamnet import Tag, format_tags, track_of
from asmr_audioset.params import ABSTAIN, TAGS
from audioprep.quality import SILENCE_PEAK, SILENT, check_quality
from audioprep.segment import batched_windows, window_bounds, window_hop
from audioprep.stream import AudioStream, prefetch
from lean.params import LeanParams


def tag_blocks(scorer, blocks: Iterable[np.ndarray], params: LeanParams = LeanParams(), top: int = 5,
               abstain: float = ABSTAIN.default_threshold) -> list[dict]:
    """One entry per window of the concatenated mono blocks: start/end seconds, the `top` labels with their
    scores, and the window's verdict `label`."""
    length = params.patch_samples
    hop = window_hop(length, params.chunk_overlap)
    total = 0

    def counted():
        nonlocal total
        for block in blocks:
            total += len(block)
            yield block

    best, scores, silent = [], [], []
    with closing(prefetch(batched_windows(counted(), length, hop))) as batches:  # the thread stops on an error
        for _, windows in batches:
            rows = scorer(windows)
            picks = np.argsort(rows, axis=1)[:, ::-1][:, :top]
            best.append(picks)
            scores.append(np.take_along_axis(rows, picks, axis=1))
            silent.append(np.abs(windows).max(axis=1) <= SILENCE_PEAK)
    best, scores, silent = np.concatenate(best), np.concatenate(scores), np.concatenate(silent)
    # a clip shorter than a window is tagged as one whole window, its end one window after the start
    starts, ends = window_bounds(len(best), length, hop, params.sample_rate, total=max(total, length))
    return [
        {
            "start": round(float(start), 3),
            "end": round(float(end), 3),
            "label": SILENT if quiet else OTHER if values[0] < abstain else scorer.labels[labels[0]],
            "labels": [{"label": scorer.labels[j], "score": round(float(s), 4)}
                       for j, s in zip(labels, values, strict=True)],
        }
        for start, end, labels, values, quiet in zip(starts, ends, best, scores, silent, strict=True)
    ]


def tag_audio(scorer, audio: np.ndarray, params: LeanParams = LeanParams(), top: int = 5,
              abstain: float = ABSTAIN.default_threshold) -> list[dict]:
    return tag_blocks(scorer, (audio,), params, top, abstain)


def tag_file(scorer, path, params: LeanParams = LeanParams(), top: int = 5, abstain: float = ABSTAIN.default_threshold,
             tags: int = TAGS.top) -> list[dict]:
    """The file's rows, decoded as a stream, each with its `tags` best AudioSet classes (0: none, and no
    YAMNet pass); a file too short, silent or cut short (tagged as far as it goes) is said so on stderr."""
    stream = AudioStream(path, sr=params.sample_rate)
    rows = tag_blocks(scorer, stream, params, top, abstain)
    for line in check_quality(stream.status, params.patch_samples / params.sample_rate).warnings:
        print(f"warning: {line}", file=sys.stderr)
    if tags > 0:
        track = track_of(path)
        for row in rows:
            row["tags"] = [asdict(t) for t in track.tags(row["start"], row["end"], tags)]
    return rows


def format_rows(rows: list[dict]) -> str:
    def line(r: dict) -> str:
        verdict = "" if r["label"] == r["labels"][0]["label"] else f"{r['label']}: "
        text = f"{r['start']:8.2f}-{r['end']:<8.2f} {verdict}" + ", ".join(
            f"{x['label']} ({x['score']:.2f})" for x in r["labels"])
        return text + (f"  | AudioSet: {format_tags([Tag(**t) for t in r['tags']])}" if r.get("tags") else "")

    return "\n".join(line(r) for r in rows)


def summarize(rows: list[dict], most: int = 3) -> dict:
    """The file at a glance: its windows, the `most` labels most often a window's top-1 (their windows and share
    of the file; a silent window has none) and how many windows abstained as `other` or were `silent`."""
    counts = Counter(row["labels"][0]["label"] for row in rows if row["label"] != SILENT)
    verdicts = Counter(row["label"] for row in rows)
    total = max(len(rows), 1)
    top = [{"label": label, "windows": n, "share": round(n / total, 4)} for label, n in counts.most_common(most)]
    return {"windows": len(rows), "top": top, OTHER: verdicts[OTHER], SILENT: verdicts[SILENT]}


def format_summary(summary: dict) -> str:
    total = max(summary["windows"], 1)
    top = ", ".join(f"{t['label']} {t['share']:.0%} ({t['windows']})" for t in summary["top"]) or "none"
    abstained = ", ".join(f"{name} {summary[name]} ({summary[name] / total:.0%})" for name in (OTHER, SILENT))
    return f"summary ({summary['windows']} windows): top-1 {top}; windows {abstained}"
