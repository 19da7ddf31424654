"""The runs the app was started with (--model, --vae, --cgan), loaded once, and which features each enables.

A missing run hides its features with a one-line reason instead of failing; a run of the wrong kind
stops the server before it starts, with one line naming the flag. Keras models are called from the
server's worker threads one at a time (`lock`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from asmr_classify.predict import Classifier, classify_file, load_classifier
from asmr_training.model_files import load_model, resolve_model
from audioprep.errors import UsageError

NEEDS = {
    "add": ("model", "adding a recording needs --model RUN (a classifier run from `asmr_classify train`)"),
    "verdict": ("model", "the classifier's verdict on generated sounds needs --model RUN"),
    "vary": ("vae", "vary and blend need --vae RUN (an AE or VAE run from `asmr_generate train vae`)"),
    "sample": ("cgan", "sample and blend labels need --cgan RUN (a run from `asmr_generate train cgan`)"),
}


@dataclass
class Engines:
    classifier: Classifier | None = None
    model_id: str | None = None  # what `catalog` records as the recording's model
    vae: object | None = None
    cgan: object | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def missing(self) -> dict[str, str | None]:
        """feature -> the one-line reason it is hidden, or None when it is available."""
        have = {"model": self.classifier, "vae": self.vae, "cgan": self.cgan}
        return {feature: None if have[run] is not None else reason for feature, (run, reason) in NEEDS.items()}

    def verdict(self, path) -> dict | None:
        """The classifier's label for a file (`other` under its abstain threshold, `silent` for digital
        silence), the probability behind it (0 when silent) and YAMNet's AudioSet tags; None without --model."""
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
