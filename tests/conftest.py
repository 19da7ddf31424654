"""Shared fixtures: small generated corpora, made once per pytest run whatever the xdist worker count."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    # xdist already runs a test on every core; TensorFlow's and BLAS's per-op thread pools on top of it
    # oversubscribed the cores (table 6's quick test ran 3x slower beside another worker than alone).
    for threads in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(threads, "1")

from pathlib import Path  # noqa: E402

from audioprep import allocator  # noqa: E402

allocator.tune()  # as every command does: the suite's training steps reuse their batches' memory

import pytest  # noqa: E402
from mediapipe_fixtures import lean_float_export  # noqa: E402, F401  (one LEAN export for two test files)
from shared_build import shared_build  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _data_root_in_tmp(tmp_path_factory):
    """Caches and any generated corpus go to a temporary folder, never the repository's data/."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASMR_TOOLKIT_DATA", str(tmp_path_factory.mktemp("data_root")))
        yield


@pytest.fixture(scope="session")
def small_layout(tmp_path_factory):
    """`small_layout(name) -> Path`: a `--size small` corpus folder for one layout, written once per pytest run
    (shared by the xdist workers)."""
    from asmr_corpus import write_layout

    def get(name: str) -> Path:
        return Path(shared_build(tmp_path_factory, f"corpus_{name}",
                                 lambda root: str(write_layout(name, root, seed=0, size="small"))))

    return get


@pytest.fixture(scope="session")
def untrained_yamnet(tmp_path_factory) -> str:
    """A seeded random native YAMNet as `--yamnet` weights, for tests that skip the stand-in pretraining."""

    def save(folder: Path) -> str:
        import keras

        from lean.params import LeanParams
        from lean.yamnet import yamnet
        from lean.yamnet_weights import save_yamnet_h5

        keras.utils.set_random_seed(0)
        return str(save_yamnet_h5(yamnet(LeanParams()), folder / "yamnet.h5"))

    return shared_build(tmp_path_factory, "untrained_yamnet", save)
