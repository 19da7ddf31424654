"""YAMNet for the tag pass: windows scored a batch at a time, without TensorFlow.

The tag pass beside a classifier (`lite_yamnet.track_of_blocks`: `predict`, `catalog`, `lean tag`) scores
every 0.975 s of a recording, so on long files it is most of the work. It runs the bundled model's weights
as assets/yamnet_tags.tflite (built by `python -m lean.build_tag_net`): YAMNet's float log-mel in numpy, then the conv
stack and head on 16 patches a call. On one core here the bundled model took 2.38 ms a window, this 1.86 ms
(the log-mel 0.19 ms of it; medians of 15 loops); its scores are the native Keras YAMNet's with the same weights, within float16
rounding of the weights, and the float front end is YAMNet's own (the bundled model's int8 DFT misses the
440 Hz sine of YAMNet's installation test; this path hears it). tests/lean/test_yamnet_weights.py checks both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asmr_audioset.lite_yamnet import TAG_NET_TFLITE, interpreter, network_id
from asmr_audioset.log_mel import log_mel
from audioprep.params import FrontEndParams

FRONT_END = FrontEndParams(sample_rate=16000)  # YAMNet's: 25 ms frames 10 ms apart, 64 bands


class TagNet:
    """(k, 15600) float32 windows at 16 kHz -> (k, 521) YAMNet scores, `batch` windows an interpreter call
    (the file's own batch; a short last batch leaves the rest of it as it was, and those scores are dropped)."""

    def __init__(self, path=TAG_NET_TFLITE):
        path = Path(path)
        self.interpreter = interpreter(path, "no such TFLite model (`python -m lean.build_tag_net` builds it)")
        self.source = network_id(path)
        details = self.interpreter.get_input_details()[0]
        self.input, self.batch = details["index"], int(details["shape"][0])
        self.frames = int(details["shape"][1])
        output = self.interpreter.get_output_details()[0]
        self.scores, self.classes = output["index"], int(output["shape"][1])

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        scores = np.empty((len(windows), self.classes), np.float32)
        patches = np.zeros((self.batch, self.frames, FRONT_END.mel_bands, 1), np.float32)
        for start in range(0, len(windows), self.batch):  # a batch's log-mel at a time: its frames are 3 MB
            part = log_mel(windows[start : start + self.batch], FRONT_END)[:, : self.frames, :, None]
            patches[: len(part)] = part
            self.interpreter.set_tensor(self.input, patches)
            self.interpreter.invoke()
            scores[start : start + len(part)] = self.interpreter.get_tensor(self.scores)[: len(part)]
        return scores
