"""The catalogue when things go wrong: a worker process that dies, recordings too short or silent to
classify, a full disk; and the defaults it shares with `predict` through the params objects."""

from __future__ import annotations

import csv
import errno
import inspect
import os
import re
import signal
import sqlite3

import numpy as np
import pytest
from streaming_fixtures import recording, tiny_model

from asmr_classify import catalog, predict
from asmr_classify.__main__ import main as cli
from asmr_classify.catalog import pool
from asmr_classify.params import CATALOG, PREDICT
from audioprep.cli import describe
from audioprep.io import write_audio

SR = 44100
REAL_WORKER = pool._worker_timeline  # bound at import, in this process and in each spawned worker


def dies_on_doomed(model_path, threads, overlap, path):
    """The worker's job, except that the process kills itself on a file named doomed.*: a worker that
    dies mid-file. A module-level function, so a spawned worker imports it by name from this module."""
    if path.stem == "doomed":
        os.kill(os.getpid(), signal.SIGKILL)
    return REAL_WORKER(model_path, threads, overlap, path)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("failures_model") / "tiny.keras")


def stderr_lines(err: str) -> list[str]:
    """stderr without the progress bar (tqdm redraws it after carriage returns)."""
    parts = (part.strip() for part in re.split(r"[\r\n]", err))
    return [part for part in parts if part and not part.startswith("cataloguing:")]


def test_a_killed_worker_costs_only_its_file(model, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "recordings"
    names = ("doomed.flac", "kept1.wav", "kept2.wav")  # the doomed file first: its worker dies before loading a model
    for i, name in enumerate(names):
        write_audio(folder / name, recording(4.0, seed=i + 1), SR)
    db = tmp_path / "catalog.sqlite"
    monkeypatch.setattr(pool, "_worker_timeline", dies_on_doomed)
    assert cli(["catalog", str(folder), "--model", str(model), "--db", str(db), "--workers", "2"]) == 1
    captured = capsys.readouterr()
    assert stderr_lines(captured.err) == [
        f"skipped: {folder / 'doomed.flac'}: the worker process classifying it died (killed or crashed)"]
    assert captured.out.strip() == "2 added, 0 updated, 0 remerged, 0 skipped, 1 bad"
    assert {hit.path for hit in catalog.query(db)} == {str((folder / name).resolve()) for name in names[1:]}


@pytest.fixture(scope="module")
def doubtful(model, tmp_path_factory):
    """A catalogue of a real recording, 3 s of digital silence and a 1-sample file."""
    folder = tmp_path_factory.mktemp("doubtful")
    write_audio(folder / "real.wav", recording(12.0, seed=5), SR)
    write_audio(folder / "silent.wav", np.zeros(3 * SR, np.float32), SR)
    write_audio(folder / "one_sample.wav", np.full(1, 0.5, np.float32), SR)
    db = folder / "catalog.sqlite"
    assert catalog.build_catalog(folder, model, db, progress=False)["added"] == 3
    return folder, db


def test_silent_and_short_recordings_are_never_confident_triggers(doubtful, capsys):
    folder, db = doubtful
    silent, short = str((folder / "silent.wav").resolve()), str((folder / "one_sample.wav").resolve())
    everything = catalog.query(db)
    flags = {hit.path: hit.flags for hit in everything}
    assert flags[silent] == ("silent",) and flags[short] == ("short",) and flags[str((folder / "real.wav").resolve())] == ()
    doubtful_hits = [hit for hit in everything if hit.flags]
    by_path = {hit.path: hit for hit in doubtful_hits}
    assert len(doubtful_hits) == 2 and by_path[short].confidence >= 0.4  # the model is sure of something on padding
    # whatever the model says of digital silence, its segment is "silent" with confidence 0, never a trigger
    assert (by_path[silent].label, by_path[silent].confidence) == ("silent", 0.0)
    assert everything[-2:] == sorted(doubtful_hits, key=lambda h: -h.confidence)  # listed last, after every real one

    confident = catalog.query(db, min_confidence=0.4)
    assert confident and all(hit.flags == () for hit in confident)
    assert cli(["catalog", "query", "--db", str(db), "--min-confidence", "0.4"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == len(confident) and {line[5] for line in lines} == {"-"}
    assert cli(["catalog", "query", "--db", str(db)]) == 0
    shown = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(line[0], line[5]) for line in shown[-2:]] == [(hit.path, hit.flag_text) for hit in everything[-2:]]

    out = folder / "segments.csv"
    assert cli(["catalog", "export", "--db", str(db), "--csv", str(out)]) == 0
    exported = {(row["path"], row["flags"]) for row in csv.DictReader(out.open())}
    assert exported == {(hit.path, hit.flag_text) for hit in everything}


def test_a_full_disk_names_the_catalogue_and_keeps_what_was_stored(tmp_path):
    db = tmp_path / "catalog.sqlite"
    conn = catalog.connect(db)
    small = predict.Timeline(np.full((4, 3), 1 / 3, np.float32), ["a", "b", "c"], 100, 100, 100, 400)
    assert catalog.store(conn, "/first.wav", "hash1", "model", small, 0.0) == "added"
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full: not one more page
    big = predict.Timeline(np.random.default_rng(0).dirichlet(np.ones(3), 20000).astype(np.float32),
                           ["a", "b", "c"], 100, 100, 100, 2_000_000)
    with pytest.raises(OSError) as caught:
        catalog.store(conn, "/second.wav", "hash2", "model", big, 0.0)
    assert caught.value.errno == errno.ENOSPC and describe(caught.value) == f"{db}: database or disk is full"
    assert not conn.in_transaction
    conn.close()
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT path FROM recordings").fetchall() == [("/first.wav",)]


def test_predict_and_catalog_take_their_defaults_from_the_params_objects():
    def default(fn, name):
        return inspect.signature(fn).parameters[name].default

    for fn in (predict.classify_stream, predict.timeline_of, predict.classify_file):
        assert default(fn, "overlap") == PREDICT.overlap
    assert (default(catalog.build_catalog, "overlap"), default(catalog.build_catalog, "threshold"),
            default(catalog.build_catalog, "workers")) == (CATALOG.overlap, CATALOG.threshold, CATALOG.workers)
