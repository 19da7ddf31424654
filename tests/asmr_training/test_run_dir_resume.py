"""asmr_training.run_dir: a run killed at any write (inside a save too) resumes to the uninterrupted run's exact state.

The trainer below has what makes resume hard: Dropout (a random generator the .keras file does not
keep), Adam (optimizer state) and a per-epoch shuffle. A kill is simulated before each commit of
every file one epoch writes (and before the first and the last commit of the run): the temporary
file is cut to half its size (a save interrupted mid-write) and the "process" dies before the
rename. A kill just after a commit leaves the same files as one just before the next commit, so
this covers every state a kill can leave. One case kills a real subprocess with os._exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from asmr_training import run_dir as runs
from audioprep import files
from audioprep.errors import BadFileError, UsageError

EPOCHS = 3


def train(out, resume: bool = False, epochs: int = EPOCHS, callbacks=()):
    """A small Dropout + Adam classifier trained into the run folder `out`; returns (weights, history)."""
    import keras

    from asmr_training.batches import ShuffledBatches

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 6)).astype("float32"), rng.integers(0, 3, 40)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.5),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    run = runs.RunDir(out, resume=resume, monitor="val_loss")
    if not resume:
        files.write_json(run.file(runs.PARAMS), {"params": {"epochs": epochs}})
    batches = ShuffledBatches(len(x), 8, lambda i: (x[i], y[i]), seed=0)
    model = run.fit(model, batches, epochs, validation_data=(x[:16], y[:16]), callbacks=list(callbacks), verbose=0)
    return [w.numpy() for w in model.weights], (Path(out) / runs.HISTORY).read_text()


class Killed(BaseException):
    """The simulated kill: nothing in the tools may catch it."""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, and how many atomic commits it makes."""
    calls = []
    real = files._commit

    def counting(tmp, path):
        calls.append(path.name)
        real(tmp, path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "_commit", counting)
        weights, history = train(tmp_path_factory.mktemp("reference") / "run")
    return weights, history, calls


def assert_same_run(result, reference):
    weights, history = result
    assert history == reference[1]
    assert len(weights) == len(reference[0])
    for got, want in zip(weights, reference[0], strict=True):
        np.testing.assert_array_equal(got, want)


def test_two_uninterrupted_runs_agree_and_the_history_has_every_epoch(reference, tmp_path):
    assert_same_run(train(tmp_path / "again"), reference)
    assert [line.split(",")[0] for line in reference[1].splitlines()[1:]] == ["0", "1", "2"]
    assert reference[2][:3] == [runs.PARAMS, "resume-0001.keras", "resume-0001.seeds.npz"]
    assert reference[2][-2:] == [runs.STATE, runs.LAST]


def kill_points(commits: list[str]) -> list[int]:
    """Before the first commit (params.json), before every commit of the middle epoch, and before the very last."""
    middle = range(commits.index("resume-0002.keras"), commits.index("resume-0003.keras"))
    return [0, *middle, len(commits) - 1]


def test_a_kill_at_any_write_resumes_to_the_uninterrupted_state(reference, tmp_path, monkeypatch):
    real = files._commit
    points = kill_points(reference[2])
    assert [reference[2][i] for i in points[1:-1]] == ["resume-0002.keras", "resume-0002.seeds.npz", runs.BEST,
                                                        runs.HISTORY, runs.STATE, runs.LAST]
    for kill_at in points:
        calls = []

        def dies(tmp, path, kill_at=kill_at, calls=calls):
            if len(calls) == kill_at:
                tmp.write_bytes(tmp.read_bytes()[: tmp.stat().st_size // 2])  # the save was cut mid-write
                raise Killed
            calls.append(path.name)
            real(tmp, path)

        out = tmp_path / f"kill{kill_at}"
        monkeypatch.setattr(files, "_commit", dies)
        with pytest.raises(Killed):
            train(out)
        monkeypatch.setattr(files, "_commit", real)
        resume = (out / runs.STATE).exists()  # before the first commit of state.json a fresh start is allowed
        assert_same_run(train(out, resume=resume), reference)
        assert sorted(p.name for p in out.iterdir() if p.name.startswith(("resume-", "."))) == [
            "resume-0002.keras", "resume-0002.seeds.npz", "resume-0003.keras", "resume-0003.seeds.npz"]


def test_a_killed_process_mid_save_resumes_exactly(reference, tmp_path):
    out = tmp_path / "run"
    kill_at = reference[2].index("resume-0002.keras")
    script = textwrap.dedent(f"""
        import os, sys
        sys.path[:0] = {[str(Path(__file__).parent), str(Path(__file__).parents[1])]!r}
        from audioprep import files
        import test_run_dir_resume
        calls = []
        real = files._commit
        def dies(tmp, path):
            if len(calls) == {kill_at}:
                with open(tmp, "r+b") as fh:
                    fh.truncate(os.path.getsize(tmp) // 3)
                os._exit(137)
            calls.append(path.name)
            real(tmp, path)
        files._commit = dies
        test_run_dir_resume.train({str(out)!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 137, done.stderr[-2000:]
    assert (out / ".resume-0002.partial.keras").exists()  # what the kill left behind
    assert json.loads((out / runs.STATE).read_text())["epoch"] == 1
    assert_same_run(train(out, resume=True), reference)


@pytest.fixture()
def finished(reference, tmp_path):
    train(tmp_path / "run", epochs=2)
    return tmp_path / "run"


def test_damaged_run_files_are_named_in_one_line(finished):
    state = finished / runs.STATE
    good = state.read_text()
    for text, reason in (("", "empty"), (good[: len(good) // 2], "not valid JSON"), ("[1]", "expected a JSON object"),
                         ('{"epoch": 2}', "not a run state")):
        state.write_text(text)
        with pytest.raises(BadFileError, match=f"^{state}: {reason}.*start|^{state}: {reason}.*afresh") as err:
            runs.RunDir(finished, resume=True)
        assert "\n" not in str(err.value)
    state.write_text(good)
    for name in ("resume-0002.keras", "resume-0001.keras"):  # the newest, then the one it falls back to
        checkpoint = finished / name
        checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(BadFileError, match=f"^{checkpoint}: truncated or not a Keras model .*afresh") as err:
        runs.RunDir(finished, resume=True).restore()
    assert "\n" not in str(err.value)
    checkpoint.write_bytes(b"")
    with pytest.raises(BadFileError, match=f"^{checkpoint}: empty"):
        runs.RunDir(finished, resume=True).restore()
    with pytest.raises(UsageError, match="holds a run already"):
        runs.RunDir(finished)


def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(finished, reference, capsys):
    newest = finished / "resume-0002.keras"
    newest.write_bytes(newest.read_bytes()[:100])
    assert_same_run(train(finished, resume=True), reference)  # epoch 2 is redone from epoch 1's checkpoint
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: {newest}: truncated or not a Keras model")
    assert err[0].endswith("resuming from the checkpoint of epoch 1 instead")


def test_a_damaged_first_checkpoint_restarts_from_the_fresh_model(reference, tmp_path, capsys):
    train(tmp_path / "run", epochs=1)
    (tmp_path / "run" / "resume-0001.seeds.npz").write_bytes(b"PK\x03\x04 not really")
    assert_same_run(train(tmp_path / "run", resume=True), reference)
    assert "resuming from the checkpoint of epoch 0 instead" in capsys.readouterr().err


def stops_early():
    """An EarlyStopping that no epoch after the first satisfies (min_delta 10): it stops after epoch 3."""
    import keras

    return [keras.callbacks.EarlyStopping("val_loss", min_delta=10.0, patience=2)]


def test_early_stopping_stops_a_resumed_run_where_the_uninterrupted_one_stops(tmp_path):
    whole = train(tmp_path / "whole", epochs=6, callbacks=stops_early())
    assert len(whole[1].splitlines()) == 1 + 3
    train(tmp_path / "cut", epochs=2, callbacks=stops_early())  # killed after epoch 2 of 6
    assert_same_run(train(tmp_path / "cut", resume=True, epochs=6, callbacks=stops_early()), whole)
    # a run early stopping ended stays ended, whatever --epochs a resume asks for
    assert_same_run(train(tmp_path / "cut", resume=True, epochs=6, callbacks=stops_early()), whole)


def test_check_run_folder_before_any_work(tmp_path):
    with pytest.raises(UsageError, match="nothing to resume"):
        runs.check_run_folder(tmp_path / "none", resume=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        runs.check_run_folder(tmp_path / "file", resume=False)
    assert runs.check_run_folder(tmp_path / "new", resume=False) == tmp_path / "new"
    assert not (tmp_path / "new").exists()


def test_a_damaged_last_keras_or_history_is_rebuilt_from_the_checkpoint(finished, reference, capsys):
    (finished / runs.LAST).write_bytes(b"")
    (finished / runs.HISTORY).unlink()
    assert_same_run(train(finished, resume=True), reference)
    err = capsys.readouterr().err
    assert f"note: {finished / runs.HISTORY}: missing; rebuilt from {finished / runs.STATE}" in err
    assert runs.load_model(finished / runs.LAST).count_params() > 0
    (finished / runs.HISTORY).write_text("epoch,loss\n0,0.5\n")  # shortened by hand
    assert len(runs.RunDir(finished, resume=True).history()) == EPOCHS
    assert "differs from state.json's record" in capsys.readouterr().err
    assert len((finished / runs.HISTORY).read_text().splitlines()) == EPOCHS + 1


def test_each_epoch_reads_its_own_order_batch_by_batch(tmp_path):
    """Keras counts epochs one ahead and shuffles batches from a global generator; RunDir.fit undoes both."""
    import keras

    from asmr_training.batches import ShuffledBatches

    seen = []
    x = np.arange(20, dtype="float32").reshape(10, 2)
    batches = ShuffledBatches(10, 4, lambda i: seen.append((batches.epoch, i.tolist())) or (x[i], x[i]), seed=3)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    run = runs.RunDir(tmp_path / "run")
    run.fit(model, batches, 3, verbose=0)
    fetched = [item for item in seen if item[1] != []][-9:]  # Keras reads two batches once ahead to learn shapes
    want = [(e, np.random.default_rng([3, e]).permutation(10)[b * 4 : b * 4 + 4].tolist()) for e in range(3)
            for b in range(3)]
    assert fetched == want


def test_read_json_names_the_file(tmp_path):
    bad = tmp_path / "params.json"
    bad.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(BadFileError, match=f"^{bad}: not UTF-8 text"):
        files.read_json(bad)
    with pytest.raises(BadFileError, match=f"^{tmp_path / 'none.json'}: missing"):
        files.read_json(tmp_path / "none.json")
