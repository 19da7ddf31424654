"""Audio Commons timbral models (PyPI `timbral-models` 0.4.0) made to run on NumPy 2 and librosa 0.11.

The package calls `np.lib.pad` (removed in NumPy 2) and passes librosa arguments positionally
(`resample(y, fs, target)`, `onset_strength(y, fs)`, `onset_detect(y, fs, ...)`), which
librosa 0.10+ makes keyword-only. Rather than copying its code, `patch()` swaps the `np` and
`librosa` names inside the package's own modules for thin overlays that add `lib.pad` and
accept those positional calls, leaving NumPy and librosa themselves untouched for everyone else.
"""

from __future__ import annotations

import functools
import sys

import librosa
import numpy as np

ATTRIBUTES = ("hardness", "depth", "brightness", "roughness", "warmth", "sharpness", "boominess")
_FUNCTIONS = {
    "hardness": "timbral_hardness", "depth": "timbral_depth", "brightness": "timbral_brightness",
    "roughness": "timbral_roughness", "warmth": "timbral_warmth", "sharpness": "timbral_sharpness",
    "boominess": "timbral_booming",
}


class _Overlay:
    """A stand-in for a module: the given attributes, everything else from `base`."""

    def __init__(self, base, **overrides):
        self._base = base
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(self._base, name)


def _keywords(fn, names: tuple[str, ...]):
    """`fn` accepting its first arguments positionally again, as `names`."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        kwargs.update(zip(names, args, strict=False))
        return fn(**kwargs)

    return call


NUMPY = _Overlay(np, lib=_Overlay(np.lib, pad=np.pad))
LIBROSA = _Overlay(
    librosa,
    core=_Overlay(librosa.core, resample=_keywords(librosa.resample, ("y", "orig_sr", "target_sr"))),
    onset=_Overlay(
        librosa.onset,
        onset_strength=_keywords(librosa.onset.onset_strength, ("y", "sr")),
        onset_detect=_keywords(librosa.onset.onset_detect, ("y", "sr")),
    ),
)


def patch():
    """Import `timbral_models` with its modules' `np` / `librosa` names pointing at the overlays."""
    import timbral_models

    for name, module in list(sys.modules.items()):
        if name.startswith("timbral_models.") and module is not None:
            if getattr(module, "np", None) is np:
                module.np = NUMPY
            if getattr(module, "librosa", None) is librosa:
                module.librosa = LIBROSA
    return timbral_models


def timbral_attributes(audio: np.ndarray, sr: int, attributes=ATTRIBUTES) -> dict[str, float]:
    """The Audio Commons scores (roughly 0-100) of a mono signal, one float per attribute."""
    models = patch()
    audio = np.asarray(audio, dtype=np.float64)
    return {a: float(getattr(models, _FUNCTIONS[a])(audio, fs=sr)) for a in attributes}
