"""An exported classifier (.tflite with metadata) as a `predict.Classifier`, so `predict` and `catalog` run it.

The file takes raw windows (its front end is in the graph), so the classifier's input kind is
"audio"; its classes, window and sample rate come from the file itself, as on Android.
"""

from __future__ import annotations

from asmr_audioset.params import ABSTAIN
from asmr_classify.predict import Classifier
from asmr_tflite.model import TfliteModel
from audioprep.errors import BadFileError


def load_tflite_classifier(path, threads: int | None = None) -> Classifier:
    model = TfliteModel(path, threads)
    if model.info is None:
        raise BadFileError(path, "no TFLite Model Metadata: export it with `python -m asmr_classify export`")
    # the export's metadata carries no abstain threshold: the default's "none of these"
    return Classifier(model, list(model.labels), "audio", model.window, model.sample_rate,
                      abstain=ABSTAIN.default_threshold)
