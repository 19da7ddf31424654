"""Shared fixtures: small generated corpora, made once per test session."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from mediapipe_fixtures import lean_float_export  # noqa: E402, F401  (one LEAN export for two test files)


@pytest.fixture(scope="session", autouse=True)
def _data_root_in_tmp(tmp_path_factory):
    """Caches and any generated corpus go to a temporary folder, never the repository's data/."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASMR_TOOLKIT_DATA", str(tmp_path_factory.mktemp("data_root")))
        yield


@pytest.fixture(scope="session")
def small_layout(tmp_path_factory):
    """`small_layout(name) -> Path`: a `--size small` corpus folder for one layout, cached per session."""
    from audioprep.synth import write_layout

    made: dict[str, object] = {}

    def get(name: str):
        if name not in made:
            root = tmp_path_factory.mktemp(f"corpus_{name}")
            made[name] = write_layout(name, root, seed=0, size="small")
        return made[name]

    return get
