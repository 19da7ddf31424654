"""ASMR or speech with no training: the real YAMNet's AudioSet `Speech` and `Whispering` scores, a voicing
check, and one rule (`DetectorParams`).

YAMNet's `Speech` score alone separates real read speech (>= 0.85) from real ASMR trigger recordings
(<= 0.08), but it also hears speech in a whisper, and ASMR is whispered. So a window's speech probability
is `Speech` scaled down by `Whispering`, and capped at one half when hardly any of its sounding frames is
voiced: whispered speech has no pitch, so it is at most `unsure`, and `asmr` when YAMNet hears a whisper.
The detector is a `predict.Classifier` over the classes (asmr, speech) whose abstain label is `unsure`:
a window is `speech` when its speech probability is >= `speech_at`, `asmr` when it is <= 1 - `speech_at`,
and `unsure` between; `predict` calls digitally silent windows `silent`. The same YAMNet call gives the
window's AudioSet tags and its 1024-d embedding (the catalogue's "more like this").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from asmr_audioset.lite_yamnet import SAMPLE_RATE, WINDOW, class_index, top_classes, yamnet
from asmr_audioset.params import TAGS
from asmr_classify.params import DETECTOR, DetectorParams
from asmr_classify.predict import Classifier, Scores
from audioprep.quality import SILENCE_PEAK

CLASSES = ("asmr", "speech")
UNSURE = "unsure"


def voiced_share(windows: np.ndarray, params: DetectorParams = DETECTOR, sr: int = SAMPLE_RATE) -> np.ndarray:
    """The share of each window's sounding frames that are voiced: a real-cepstrum peak at a pitch period
    in `pitch_hz` standing `voiced_prominence` above the median of that quefrency band. A frame sounds
    when its level is within `sounding_db` of the window's loudest and above one 16-bit step; a window
    with no sounding frame has share 0."""
    frame = int(round(params.frame_seconds * sr))
    frames = sliding_window_view(np.asarray(windows, np.float32), frame, axis=1)[:, :: frame // 2]
    level = np.sqrt(np.mean(np.square(frames), axis=-1))
    sounding = (level >= level.max(axis=1, keepdims=True) * 10 ** (-params.sounding_db / 20)) & (level > SILENCE_PEAK)
    n_fft = 1 << (frame - 1).bit_length()
    spectrum = np.log(np.abs(scipy.fft.rfft(frames * np.hanning(frame).astype(np.float32), n_fft, axis=-1)) + 1e-9)
    lo, hi = int(sr // params.pitch_hz[1]), int(np.ceil(sr / params.pitch_hz[0]))
    band = scipy.fft.irfft(spectrum, n_fft, axis=-1)[..., lo : hi + 1]
    voiced = sounding & (band.max(axis=-1) - np.median(band, axis=-1) >= params.voiced_prominence)
    return voiced.sum(axis=1) / np.maximum(sounding.sum(axis=1), 1)


def speech_probability(speech: np.ndarray, whispering: np.ndarray, voiced: np.ndarray,
                       params: DetectorParams = DETECTOR) -> np.ndarray:
    """The rule: YAMNet's Speech score, scaled by 1 - Whispering / `whisper_full` (0 from there on),
    capped at `unvoiced_cap` where under `voiced_min` of the sounding frames are voiced."""
    p = np.asarray(speech, np.float32) * (1.0 - np.clip(np.asarray(whispering) / params.whisper_full, 0.0, 1.0))
    return np.where(np.asarray(voiced) < params.voiced_min, np.minimum(p, params.unvoiced_cap), p).astype(np.float32)


@dataclass
class SpeechDetector(Classifier):
    """YAMNet plus the rule as a classifier of raw 16 kHz windows: probabilities (asmr, speech) = (1 - p, p)."""

    params: DetectorParams = DETECTOR
    gives_tags: ClassVar[bool] = True

    def inputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The windows and their voiced share: the cepstral check runs in the featurising thread while the
        model's thread runs YAMNet on the batch before, so the two share the cores."""
        windows = np.asarray(windows, np.float32)
        return windows, voiced_share(windows, self.params)

    def score(self, x: np.ndarray | tuple[np.ndarray, np.ndarray]) -> Scores:
        """Raw 16 kHz windows, or `inputs`' (windows, voiced share)."""
        windows, voiced = x if isinstance(x, tuple) else self.inputs(x)
        net = yamnet()
        scores, embeddings = net(windows)
        p = speech_probability(scores[:, class_index("Speech")], scores[:, class_index("Whispering")], voiced,
                               self.params)
        return Scores(np.stack([1.0 - p, p], axis=1), embeddings.astype(np.float16), top_classes(scores, TAGS.keep),
                      net.source)


def model_id(params: DetectorParams = DETECTOR) -> str:
    """What the catalogue records as the detector's model: a changed rule re-classifies a catalogued folder."""
    return f"yamnet-speech-detector:{hashlib.sha256(repr(params).encode()).hexdigest()[:12]}"


def load_detector(params: DetectorParams = DETECTOR) -> SpeechDetector:
    if not 0.5 < params.speech_at <= 1.0:
        raise ValueError(f"speech_at {params.speech_at}: must be in (0.5, 1] so that asmr and speech cannot overlap")
    return SpeechDetector(None, list(CLASSES), "audio", WINDOW, SAMPLE_RATE, abstain=params.speech_at,
                          abstain_label=UNSURE, params=params)
