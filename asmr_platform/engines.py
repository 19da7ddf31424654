"""The runs the app was started with (--model, --vae, --cgan), loaded once, and which features each enables.

Adding a recording needs no run: an upload is labelled by --model's classifier when one is given, else by
YAMNet's ASMR / speech detector (`asmr_classify.speech_detector`, as `catalog` without --model), and
catalogued under that model's id. A missing run hides the features that need it with a one-line reason
instead of failing: the verdict on generated sounds needs a trigger classifier (--model), which the
detector is not. A run of the wrong kind stops the server before it starts, with one line naming the
flag. Models are called from the server's worker threads one at a time (`lock`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from asmr_classify.predict import Classifier, classify_file, load_classifier
from asmr_classify.speech_detector import load_detector
from asmr_classify.speech_detector import model_id as detector_id
from asmr_training.model_files import load_model, resolve_model
from audioprep.errors import UsageError

NEEDS = {
    "verdict": ("model", "the classifier's verdict on generated sounds needs --model RUN"),
    "vary": ("vae", "vary and blend need --vae RUN (an AE or VAE run from `asmr_generate train vae`)"),
    "sample": ("cgan", "sample and blend labels need --cgan RUN (a run from `asmr_generate train cgan`)"),
}


@dataclass
class Engines:
    classifier: Classifier | None = None  # --model's: labels uploads and judges generated sounds
    model_id: str | None = None  # what `catalog` records as the model of a recording --model labelled
    vae: object | None = None
    cgan: object | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    detector: Classifier = field(default_factory=load_detector)  # labels uploads without --model

    @property
    def labeller(self) -> Classifier:
        """What labels an upload: --model's classifier, else the ASMR / speech detector."""
        return self.detector if self.classifier is None else self.classifier

    @property
    def labeller_id(self) -> str:
        """What the catalogue records as the model of an added upload."""
        return detector_id(self.detector.params) if self.classifier is None else self.model_id

    def missing(self) -> dict[str, str | None]:
        """feature -> the one-line reason it is hidden, or None when it is available."""
        have = {"model": self.classifier, "vae": self.vae, "cgan": self.cgan}
        return {feature: None if have[run] is not None else reason for feature, (run, reason) in NEEDS.items()}

    def verdict(self, path) -> dict | None:
        """The classifier's label for a file (`other` under its abstain threshold, `silent` for digital
        silence), the probability behind it (0 when silent) and YAMNet's AudioSet tags; None without --model
        (the detector says asmr or speech, not which trigger)."""
        if self.classifier is None:
            return None
        with self.lock:
            result = classify_file(self.classifier, path)
        return {"label": result.label, "confidence": result.confidence, "tags": [asdict(t) for t in result.tags]}


def _generator(path, flag: str, kind: type, what: str):
    model = load_model(path)
    if not isinstance(model, kind):
        raise UsageError(f"{flag} {path}: not {what} run (it holds a {type(model).__name__})")
    return model


def load_engines(model=None, vae=None, cgan=None) -> Engines:
    """Load the given runs; UsageError naming the flag if one is not of its kind."""
    engines = Engines()
    if model is not None:
        engines.classifier = load_classifier(model)
        engines.model_id = str(resolve_model(model).resolve())
    if vae is not None or cgan is not None:
        from asmr_generate.mel.models import MelAE, MelCGAN

        engines.vae = _generator(vae, "--vae", MelAE, "an AE or VAE") if vae is not None else None
        engines.cgan = _generator(cgan, "--cgan", MelCGAN, "a cGAN") if cgan is not None else None
    return engines
