"""The helper behind the shared model fixtures: one build per pytest run across worker processes, its result
read by all, a failed build failing every caller with its error, the remains of a killed build rebuilt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from shared_build import SharedBuildError, shared_build

TESTS = Path(__file__).resolve().parents[1]

# A worker: builds `thing` (slowly, logging each build) under the run folder of argv[1], as worker argv[2].
WORKER = """
import sys, time
from pathlib import Path

sys.path.insert(0, sys.argv[3])
from shared_build import shared_build

run = Path(sys.argv[1])

class Factory:
    def getbasetemp(self):
        return run / ("popen-" + sys.argv[2])

def build(folder):
    with open(run / "builds.log", "a") as log:
        log.write(sys.argv[2] + "\\n")
    time.sleep(1.0)  # long enough for the other workers to reach the lock
    (folder / "artefact.txt").write_text("made")
    return {"file": str(folder / "artefact.txt")}

print(shared_build(Factory(), "thing", build)["file"])
"""


class Factory:
    def __init__(self, base: Path):
        self.base = base

    def getbasetemp(self) -> Path:
        return self.base


def test_workers_build_once_and_share_the_result(tmp_path):
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), f"gw{i}", str(TESTS)],
                                env={"PYTEST_XDIST_WORKER": f"gw{i}", "PATH": ""}, stdout=subprocess.PIPE, text=True)
               for i in range(3)]
    printed = {w.communicate(timeout=60)[0].strip() for w in workers}
    assert [w.returncode for w in workers] == [0, 0, 0]
    assert printed == {str(tmp_path / "shared" / "thing" / "artefact.txt")}
    assert len((tmp_path / "builds.log").read_text().split()) == 1


def test_a_failed_build_fails_every_later_caller_with_its_error(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    calls = []

    def build(folder):
        calls.append(folder)
        raise ValueError("the corpus is empty")

    with pytest.raises(ValueError, match="the corpus is empty"):
        shared_build(Factory(tmp_path), "model", build)
    with pytest.raises(SharedBuildError, match="(?s)'model' failed.*ValueError: the corpus is empty"):
        shared_build(Factory(tmp_path), "model", build)
    assert calls == [tmp_path / "shared" / "model"]


def test_the_remains_of_a_killed_build_are_built_again(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    remains = tmp_path / "shared" / "model"
    remains.mkdir(parents=True)
    (remains / "half_written.keras").write_bytes(b"PK")

    def build(folder):
        (folder / "model.keras").write_bytes(b"whole")
        return sorted(p.name for p in folder.iterdir())

    assert shared_build(Factory(tmp_path), "model", build) == ["model.keras"]
    assert shared_build(Factory(tmp_path), "model", lambda folder: 1 / 0) == ["model.keras"]  # read, not built
