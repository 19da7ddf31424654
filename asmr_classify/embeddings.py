"""Real YAMNet embeddings of a labelled folder's recordings, one per 0.975 s window, cached by file content.

A recording, decoded mono at 16 kHz (one shorter than a window is repeat-padded to it), is cut into
YAMNet's 15,600-sample windows `hop` apart, and each window's 1024-d embedding comes from the native Keras
YAMNet with the bundled weights (asmr_classify.yamnet_head.embedder), the network the saved model runs.
They are kept in `<data root>/cache/yamnet/<SHA-256 of the file>-<key>.npz`, the key naming the weights'
SHA-256, the rate, the window and the hop: a recording is embedded once whatever it is called and wherever
it lies, and a second training on the same files never runs YAMNet. A cache file that cannot be read is
computed again.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from asmr_classify import yamnet_head
from asmr_classify.params import YamnetHeadParams
from asmr_classify.predict import predict_batched
from audioprep.cache import settings_key, write_npz
from audioprep.io import file_sha256
from audioprep.paths import data_root
from audioprep.segment import fixed_clips

FORMAT = 1
BATCH = 64  # windows per YAMNet call


class EmbeddingCache:
    """Per-window embeddings of audio files, computed at most once per file content; YAMNet is built on the
    first file that needs it. `computed` counts the files run through YAMNet by this object."""

    sample_rate = yamnet_head.SAMPLE_RATE
    window = yamnet_head.WINDOW
    size = yamnet_head.EMBEDDING_SIZE

    def __init__(self, params: YamnetHeadParams = YamnetHeadParams()):
        self.hop = yamnet_head.hop_samples(params)
        self.weights = yamnet_head.weights()
        self.key = settings_key({"weights": self.weights["sha256"], "sample_rate": self.sample_rate,
                                 "window": self.window, "hop": self.hop, "format": FORMAT})
        self.folder = data_root() / "cache" / "yamnet"
        self.computed = 0
        self._embedder = None

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = yamnet_head.embedder()
        return self._embedder

    def path(self, file) -> Path:
        return self.folder / f"{file_sha256(file)}-{self.key}.npz"

    def cached(self, file) -> np.ndarray | None:
        """`file`'s cached (windows, 1024) embeddings, or None when not there yet (or damaged): no decoding."""
        try:
            with np.load(self.path(file), allow_pickle=False) as stored:
                return stored["embeddings"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None

    def embeddings(self, file, audio: np.ndarray) -> np.ndarray:
        """(windows, 1024) float32 embeddings of `audio`, the decoded `file` (read from the cache when there)."""
        out = self.cached(file)
        if out is not None:
            return out
        windows = fixed_clips(np.asarray(audio, np.float32), self.window, self.hop)
        out = predict_batched(self.embedder, windows, BATCH).astype(np.float32)
        write_npz(self.path(file), {"embeddings": out})
        self.computed += 1
        return out
