"""The catalogue at scale: streamed segments equal the whole-file ones, stored probabilities re-merge
without the model, concurrent readers and writers (WAL, upserts), per-file failures named, workers."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import numpy as np
import pytest
from streaming_fixtures import recording, tiny_model

from asmr_classify import catalog, predict
from asmr_classify.__main__ import main as cli
from audioprep.errors import UsageError
from audioprep.io import load_audio, write_audio
from audioprep.segment import sliding_windows, window_hop

SR_IN = 44100


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("catalog_model") / "tiny.keras")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three 12 s recordings (wav, flac, mp3) and a 3-minute one, stereo 44.1 kHz."""
    root = tmp_path_factory.mktemp("catalog_clips")
    made = {f"short{i}{ext}": write_audio(root / f"short{i}{ext}", recording(12.0, seed=i + 1), SR_IN)
            for i, ext in enumerate((".wav", ".flac", ".mp3"))}
    made["long.wav"] = write_audio(root / "long.wav", recording(180.0), SR_IN)
    return made


def folder_of(tmp_path, clips, *names):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name in names:
        shutil.copy(clips[name], folder / name)
    return folder


def segments(db, path):
    rows = sorted((r for r in catalog.query(db) if r[0] == str(path.resolve())), key=lambda r: r[1])
    return [(r.start, r.end, r.label) for r in rows], [r.confidence for r in rows]


def whole_file_segments(clf, path, threshold=0.0):
    """What the catalogue held before streaming (whole decode, one predict call), from float16 probabilities,
    windows under the model's abstain threshold "other"."""
    audio, _ = load_audio(path, sr=clf.sample_rate)
    probs = predict.predict_proba(clf, predict.features(clf, sliding_windows(audio, clf.window_samples, 0.0)))
    timeline = predict.Timeline(probs.astype(np.float16), clf.classes, clf.sample_rate, clf.window_samples,
                                window_hop(clf.window_samples, 0.0), len(audio), abstain=clf.abstain)
    merged = predict.merge_windows(timeline.windows(threshold))
    return [(s.start, s.end, s.label) for s in merged], [s.confidence for s in merged]


def test_streamed_segments_equal_the_whole_file_ones_and_re_merge_without_the_model(model, clips, tmp_path,
                                                                                      monkeypatch):
    folder = folder_of(tmp_path, clips, "long.wav")
    db = tmp_path / "catalog.sqlite"
    assert catalog.build_catalog(folder, model, db, progress=False)["added"] == 1
    clf = predict.load_classifier(model)
    expected, confidence = whole_file_segments(clf, folder / "long.wav")
    got, got_confidence = segments(db, folder / "long.wav")
    assert got == expected and len(got) >= 5
    np.testing.assert_allclose(got_confidence, confidence, atol=1e-3)  # float16 probabilities

    high, _ = whole_file_segments(clf, folder / "long.wav", threshold=0.9)
    assert catalog.remerge(db, 0.9) == 1
    assert segments(db, folder / "long.wav")[0] == high
    assert sum(e - s for s, e, _ in high) < 0.9 * sum(e - s for s, e, _ in expected)  # windows were left out
    assert cli(["catalog", "remerge", "--db", str(db), "--threshold", "0"]) == 0
    assert segments(db, folder / "long.wav") == (got, got_confidence)  # exactly the first merge

    def no_model(path):
        raise AssertionError("an unchanged recording needs no model to re-merge")

    monkeypatch.setattr(catalog.pool, "load_classifier", no_model)
    counts = catalog.build_catalog(folder, model, db, progress=False, threshold=0.9)
    assert counts == {"added": 0, "updated": 0, "remerged": 1, "skipped": 0, "bad": 0}
    assert segments(db, folder / "long.wav")[0] == high


def fake_timeline(seed, windows=40, classes=("a", "b", "c")):
    probs = np.random.default_rng(seed).dirichlet(np.ones(len(classes)), size=windows).astype(np.float32)
    return predict.Timeline(probs, list(classes), 100, 100, 100, 100 * windows)


def test_a_reader_and_a_second_writer_run_while_one_writes(tmp_path):
    db = tmp_path / "catalog.sqlite"
    conn = catalog.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert catalog.store(conn, "/first.wav", "hash1", "model", fake_timeline(0), 0.0) == "added"
    events = []

    def second_writer():
        other = catalog.connect(db)
        try:
            events.append(("second writer stored", catalog.store(other, "/second.wav", "hash2", "model",
                                                                 fake_timeline(1), 0.0)))
        finally:
            other.close()

    with catalog.write(conn):  # one writer holds the write lock for 1.5 s
        conn.execute("UPDATE recordings SET duration = 99 WHERE path = '/first.wav'")
        writer = threading.Thread(target=second_writer)
        writer.start()
        start = time.perf_counter()
        rows = catalog.query(db)  # reads the last committed state at once
        assert time.perf_counter() - start < 1.0 and {r[0] for r in rows} == {"/first.wav"}
        time.sleep(1.5)
        assert events == []  # the second writer waits for its turn
        events.append(("first writer committed", None))
    writer.join()
    assert events == [("first writer committed", None), ("second writer stored", "added")]
    durations = dict(conn.execute("SELECT path, duration FROM recordings").fetchall())
    assert durations == {"/first.wav": 99.0, "/second.wav": 40.0}
    conn.close()


def test_two_writers_storing_one_recording_never_collide(tmp_path):
    """Both see no row, both store: the upsert keeps one recording with one set of segments."""
    db = tmp_path / "catalog.sqlite"
    catalog.connect(db).close()
    barrier, outcomes, errors = threading.Barrier(2, timeout=120), [], []

    def writer(seed):
        conn = catalog.connect(db)
        try:
            barrier.wait()
            for i in range(20):
                outcomes.append(catalog.store(conn, "/same.wav", f"hash{i % 2}", "model", fake_timeline(seed), 0.0))
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(outcomes) == 40 and set(outcomes) <= {"added", "updated", "skipped"}
    conn = sqlite3.connect(db)
    (recording_id,), = conn.execute("SELECT id FROM recordings").fetchall()
    stored = conn.execute("SELECT count(*) FROM segments WHERE recording_id = ?", (recording_id,)).fetchone()[0]
    assert stored == conn.execute("SELECT count(*) FROM segments").fetchone()[0] > 0
    conn.close()


def test_catalogues_opened_together_wait_for_each_other(tmp_path):
    """Two connections creating one new catalogue at once both succeed (SQLite's journal-mode switch does not wait
    by itself: before the retry, 54-57 of 300 such pairs failed with "database is locked")."""
    failures = []

    def open_and_close(db, barrier):
        barrier.wait()
        try:
            catalog.connect(db).close()
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            failures.append(repr(err))

    for i in range(60):
        barrier = threading.Barrier(2, timeout=60)
        threads = [threading.Thread(target=open_and_close, args=(tmp_path / f"c{i}.sqlite", barrier)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []


def test_two_catalogues_of_one_folder_at_once(model, clips, tmp_path, monkeypatch):
    """Both check every file before either stores one (a barrier forces it): no UNIQUE failures."""
    folder = folder_of(tmp_path, clips, "short0.wav", "short1.flac")
    db = tmp_path / "catalog.sqlite"
    # a timeout: if one run fails before the barrier, the other stops there too and the test reports it
    barrier, real, results, errors = threading.Barrier(2, timeout=120), catalog.pool.timeline_of, [], []

    def after_both_checked(clf, path, overlap=0.0, clock=None):
        if path.name == "short0.wav":
            barrier.wait()
        return real(clf, path, overlap, clock)

    monkeypatch.setattr(catalog.pool, "timeline_of", after_both_checked)

    def run():
        try:
            results.append(catalog.build_catalog(folder, model, db, progress=False))
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r["added"] for r in results) == 2 and sum(r["skipped"] for r in results) == 2
    assert {r[0] for r in catalog.query(db)} == {str((folder / n).resolve()) for n in ("short0.wav", "short1.flac")}


def test_bad_files_are_named_and_keep_nothing_cut_files_keep_what_decodes(model, clips, tmp_path, monkeypatch, capsys):
    folder = folder_of(tmp_path, clips, "short0.wav", "short1.flac", "long.wav")
    db = tmp_path / "catalog.sqlite"
    assert catalog.build_catalog(folder, model, db, progress=False)["added"] == 3
    for name in ("short1.flac", "long.wav"):  # both change: cut in half
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2 + 7])
    shutil.copy(clips["short2.mp3"], folder / "locked.mp3")
    real_sha = catalog.sha256

    def unreadable(path):
        if path.name == "locked.mp3":
            raise PermissionError(13, "Permission denied", str(path))
        return real_sha(path)

    monkeypatch.setattr(catalog.build, "sha256", unreadable)
    capsys.readouterr()
    counts = catalog.build_catalog(folder, model, db, progress=False)
    assert counts == {"added": 0, "updated": 1, "remerged": 0, "skipped": 1, "bad": 2}
    err = capsys.readouterr().err.splitlines()
    note = f"{folder / 'long.wav'}: truncated: audio stops at 1:30.0 of 3:00.0"
    assert err[:2] == [f"skipped: {folder / 'locked.mp3'}: permission denied", f"warning: {note}"]
    assert len(err) == 3 and err[2].startswith(f"skipped: {folder / 'short1.flac'}: cannot decode audio after 0:")
    conn = sqlite3.connect(db)
    stored = dict(conn.execute("SELECT path, truncated FROM recordings").fetchall())
    conn.close()
    assert stored == {str((folder / "short0.wav").resolve()): None, str((folder / "long.wav").resolve()): note}
    spans, _ = segments(db, folder / "long.wav")
    assert spans[-1][1] == pytest.approx(90.0, abs=1e-3) and spans[0][0] == 0.0


def test_wrong_input_creates_nothing_and_says_so_in_one_line(model, tmp_path, capsys):
    db = tmp_path / "catalog.sqlite"
    assert cli(["catalog", str(tmp_path / "nowhere"), "--model", str(model), "--db", str(db)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nowhere'}: not a folder of recordings"
    assert not db.exists()
    with pytest.raises(UsageError, match="--workers 0: must be >= 1"):
        catalog.build_catalog(tmp_path, model, db, workers=0)
    assert cli(["catalog", "remerge", "--db", str(db), "--threshold", "0.5"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {db}: no such catalogue"
    assert not db.exists()
    old = sqlite3.connect(db)  # a catalogue of the first format
    old.execute("CREATE TABLE recordings (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE)")
    old.close()
    assert cli(["catalog", str(tmp_path), "--model", str(model), "--db", str(db)]) == 2
    assert "a catalogue of an older format (version 0)" in capsys.readouterr().err
    db.write_bytes(b"not a database at all" * 10)
    assert cli(["catalog", "query", "--db", str(db)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {db}: not a usable catalogue (file is not a database)"


def test_workers_catalogue_files_at_once_with_the_same_result(model, clips, tmp_path):
    folder = folder_of(tmp_path, clips, "short0.wav", "short1.flac", "short2.mp3")
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    assert catalog.build_catalog(folder, model, one, progress=False)["added"] == 3
    clock = predict.StageClock()
    assert catalog.build_catalog(folder, model, two, progress=False, workers=2, clock=clock)["added"] == 3
    assert sorted(catalog.query(one)) == sorted(catalog.query(two))
    assert clock.seconds["decode"] > 0 and clock.seconds["model"] > 0  # the workers' stage times came back
