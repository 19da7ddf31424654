"""Artefacts that tests share across pytest-xdist workers: built once per pytest run, whatever the worker count.

`shared_build(tmp_path_factory, name, build)` gives every worker the same folder. The first worker to take the
folder's lock runs `build(folder)`, writes its JSON-able result to a completion marker (written whole or not at
all) and lets the others in; they read the result from the marker instead of building again. A build that
raises leaves a failure marker holding its traceback, so the tests of every worker that need it fail with that
error instead of waiting or building again. A worker killed mid-build releases its lock (the kernel drops an
`flock` with its process) and leaves no marker, so the next worker builds the folder afresh.

In-memory objects (models) do not cross processes: a build saves files, and each worker loads them."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

DONE = ".done.json"
FAILED = ".failed.txt"


class SharedBuildError(RuntimeError):
    """A shared artefact's build failed (in this worker or another); the message holds its traceback."""


def shared_root(tmp_path_factory) -> Path:
    """The folder every worker of this pytest run sees: the parent of a worker's basetemp under xdist
    (`.../pytest-N/popen-gwK` -> `.../pytest-N`), the basetemp itself without xdist."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits while another worker builds; released on close or death
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_whole(path: Path, text: str) -> None:
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    partial.write_text(text)
    os.replace(partial, path)


def shared_build(tmp_path_factory, name: str, build: Callable[[Path], object]):
    """`build(folder)`'s result (JSON-able), the build run once per pytest run in `<shared root>/<name>/`."""
    folder = shared_root(tmp_path_factory) / name
    done, failed = folder.with_name(name + DONE), folder.with_name(name + FAILED)
    with _locked(folder.with_name(name + ".lock")):
        if done.exists():
            return json.loads(done.read_text())["result"]
        if failed.exists():
            raise SharedBuildError(f"building the shared {name!r} failed:\n{failed.read_text()}")
        shutil.rmtree(folder, ignore_errors=True)  # the remains of a build whose worker was killed
        folder.mkdir(parents=True)
        try:
            result = build(folder)
            text = json.dumps({"result": result})
        except BaseException:
            _write_whole(failed, traceback.format_exc())
            raise
        _write_whole(done, text)
        return result
