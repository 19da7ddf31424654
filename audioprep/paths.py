"""Where generated corpora and caches live: one folder, movable with an environment variable (tests use a temporary one)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "ASMR_TOOLKIT_DATA"


def data_root() -> Path:
    """The folder holding generated corpora: $ASMR_TOOLKIT_DATA, else the repository's data/."""
    return Path(os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[1] / "data")
