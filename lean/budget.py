"""How much data and training a LEAN run spends: the full budget and the quick one, one definition for
`lean train --quick` and the experiments (tables 6 and 7, the LEAN benchmark) alike.

Full runs use the whole corpus with an epoch budget that keeps table6 within two hours on two CPU cores
(51 min measured on the generated corpus); the quick one trains on a few hundred 1 s patches in minutes,
and the generated quick corpus (data/quick/fsd50k) holds just the clips it reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """How much data and training an experiment spends."""

    name: str
    max_clips: dict | None  # {split: first n clips}
    max_patches_per_clip: int | None
    epochs: int
    pretrain_epochs: int  # the stand-in YAMNet's
    calibration_windows: int  # 1 s train windows that calibrate the full-int8 export


FULL = Budget("full", None, None, epochs=10, pretrain_epochs=10, calibration_windows=200)
# Quick: more clips, one patch each, and most steps on the stand-in YAMNet that every model builds on
# (200 clips x 2 patches and 2 pretraining epochs left every model at chance, mAUC 0.49-0.56).
QUICK = Budget("quick", {"train": 600, "val": 48, "eval": 120}, 1, epochs=2, pretrain_epochs=4, calibration_windows=50)
