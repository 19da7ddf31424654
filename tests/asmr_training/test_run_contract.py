"""The run contract every trainer starts through (asmr_training.start): run state is data, a resume is the same run,
one writer per run folder, and bad settings are refused before any data is read.

One tiny classifier run (a real `asmr_classify train`, one epoch) is copied for each case that resumes it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from shared_build import shared_build

from asmr_classify.__main__ import main as classify
from asmr_training import run_dir as runs
from asmr_training.run_lock import LOCK, RunLock
from asmr_training.run_state import check_state
from audioprep.errors import BadFileError, UsageError
from audioprep.files import atomic_write

TINY = ["--model", "cnn1d", "--max-slices-per-file", "2", "--filters", "4", "--dense-units", "8", "--batch-size", "16",
        "--epochs", "1", "--seed", "7"]


def errors(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def finished(small_layout, tmp_path_factory):
    """A finished one-epoch seed-7 run (trained once per pytest run; tests change copies) and the data it read."""
    data = small_layout("deepasmr")

    def train(folder: Path) -> str:
        assert classify(["train", *TINY, "--data", str(data), "--out", str(folder / "run")]) == 0
        return str(folder / "run")

    return Path(shared_build(tmp_path_factory, "contract_run", train)), data


@pytest.fixture
def run(finished, tmp_path):
    """A copy of the finished run, to resume or damage."""
    out, data = finished
    copy = tmp_path / "runs" / "run"
    shutil.copytree(out, copy)
    return copy, data


def resume(run, *flags) -> int:
    out, data = run
    return classify(["train", *TINY, "--data", str(data), "--out", str(out), "--resume", *flags])


def test_a_state_naming_files_outside_the_folder_is_refused_and_touches_nothing(run, capsys):
    out, _ = run
    victims = {out.parents[1] / "victim.keras": b"precious model", out.parents[1] / "victim2.npz": b"precious seeds"}
    for path, content in victims.items():
        path.write_bytes(content)
    state = json.loads((out / runs.STATE).read_text())
    (out / runs.STATE).write_text(json.dumps({**state, "checkpoint": "../../victim.keras", "seeds": "../../victim2.npz"}))
    assert resume(run, "--epochs", "2") == 2
    err = errors(capsys)
    assert len(err) == 1 and err[0].startswith(f"error: {out / runs.STATE}: not a run state: field 'checkpoint'")
    assert "'../../victim.keras'" in err[0]
    assert {path: path.read_bytes() for path in victims} == victims
    previous = {**state["previous"], "checkpoint": "/etc/passwd"}
    with pytest.raises(BadFileError, match=r"field 'previous.checkpoint' must name a file of the run folder"):
        check_state(out / runs.STATE, {**state, "previous": previous}, "")


@pytest.mark.parametrize(("field", "value", "says"), [
    ("best", "0.5", "field 'best' must be a number or null, not '0.5'"),
    ("epoch", "1", "field 'epoch' must be an integer >= 0, not '1'"),
    ("epoch", -1, "field 'epoch' must be an integer >= 0, not -1"),
    ("history", {"0": {}}, "field 'history' must be a list of epoch rows, not dict"),
    ("seeds", "resume-0001.keras", "field 'seeds' must name a file of the run folder like resume-0001.seeds.npz"),
])
def test_a_wrongly_typed_state_field_stops_the_resume_before_any_training(run, capsys, field, value, says):
    out, _ = run
    state = json.loads((out / runs.STATE).read_text())
    (out / runs.STATE).write_text(json.dumps({**state, field: value}))
    before = sorted(p.name for p in out.iterdir())
    assert resume(run, "--epochs", "2") == 2
    err = errors(capsys)
    assert len(err) == 1 and err[0].startswith(f"error: {out / runs.STATE}: not a run state: {says}"), err
    assert sorted(p.name for p in out.iterdir()) == before  # no epoch was trained, nothing was written


def test_a_resume_with_other_settings_is_refused_naming_each_and_both_values(run, capsys):
    out, _ = run
    params = (out / runs.PARAMS).read_text()
    assert resume(run, "--seed", "99", "--learning-rate", "0.5", "--batch-size", "8", "--epochs", "2") == 2
    err = errors(capsys)
    assert len(err) == 1 and err[0].startswith(f"error: {out / runs.PARAMS}: --resume continues the run as it started")
    for named in ("seed 7 there, 99 asked", "learning_rate 0.001 there, 0.5 asked", "batch_size 16 there, 8 asked"):
        assert named in err[0]
    assert (out / runs.PARAMS).read_text() == params and json.loads((out / runs.STATE).read_text())["epoch"] == 1
    assert classify(["train", "--model", "cnn2d", "--out", str(out), "--resume"]) == 2
    assert 'model "cnn1d" there, "cnn2d" asked' in errors(capsys)[0]


def test_a_resume_with_the_same_settings_continues_and_records_the_longer_run(run, capsys):
    out, data = run
    assert resume(run, "--learning-rate", "0.001", "--epochs", "2") == 0
    assert json.loads((out / runs.STATE).read_text())["epoch"] == 2
    record = json.loads((out / runs.PARAMS).read_text())
    assert record["params"]["epochs"] == 2 and record["seed"] == 7 and record["max_per_file"] == 2
    assert [change["epochs"] for change in record["history"]] == [[1, 2]]
    assert record["history"][0]["at_epoch"] == 1
    # the bare --resume takes every recorded setting (seed 7, 4 filters, two slices per file, the data folder)
    assert classify(["train", "--model", "cnn1d", "--out", str(out), "--resume", "--epochs", "3"]) == 0
    assert len(runs.read_history(out)) == 3 and not (out / LOCK).exists()
    capsys.readouterr()


def test_a_second_writer_is_refused_naming_the_holder(run, capsys):
    out, data = run
    with RunLock(out):
        holder = json.loads((out / LOCK).read_text())
        assert resume(run, "--epochs", "2") == 2
        fresh = out.parent / "fresh"
        with RunLock(fresh):
            assert classify(["train", *TINY, "--data", str(data), "--out", str(fresh)]) == 2
    err = errors(capsys)
    assert len(err) == 2
    for line, folder in zip(err, (out, fresh), strict=True):
        assert line.startswith(f"error: {folder / LOCK}: held by pid {os.getpid()} on {socket.gethostname()} since ")
    assert holder["started"] in err[0] and not (out / LOCK).exists()
    assert not (fresh / runs.STATE).exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_warning(run, capsys):
    out, _ = run
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (out / LOCK).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00"}))
    assert resume(run, "--epochs", "2") == 0
    err = [line for line in errors(capsys) if line.startswith("warning")]
    assert err == [f"warning: {out / LOCK}: taking over the lock of pid {pid} on {socket.gethostname()} since "
                   "2026-01-01T00:00:00, which no longer runs"]
    assert json.loads((out / runs.STATE).read_text())["epoch"] == 2 and not (out / LOCK).exists()
    (out / LOCK).write_text(json.dumps({"pid": pid, "host": "elsewhere", "started": "2026-01-01T00:00:00"}))
    assert resume(run, "--epochs", "3") == 2  # another host's lock is never judged stale here
    assert f"held by pid {pid} on elsewhere since" in errors(capsys)[0]


def test_out_of_range_settings_are_refused_before_any_data_is_read(small_layout, tmp_path, capsys):
    """The data folder here holds no usable audio: an error about it would mean it was read first."""
    from asmr_classify.train import train_classifier
    from asmr_generate.__main__ import main as generate
    from asmr_training.run_spec import RunSpec
    from lean.__main__ import main as lean

    empty = tmp_path / "empty"
    (empty / "label").mkdir(parents=True)
    out = tmp_path / "out"
    cases = [
        (generate, ["train", "wavenet", "--data", str(empty), "--out", str(out), "--set", "residual_channels=-4"],
         "error: --set residual_channels=-4: must be an integer >= 1, not -4"),
        (generate, ["train", "wavernn", "--data", str(empty), "--out", str(out), "--set", "hidden=15"],
         "error: --set hidden=15: must be an even integer >= 2, not 15"),
        (lean, ["train", "--data", str(empty), "--out", str(out), "--spec-time-mask-frames", "500"],
         "error: --spec-time-mask-frames 500: a patch has 96 frames; a mask must be narrower"),
    ]
    for cli, argv, line in cases:
        assert cli(argv) == 2
        assert errors(capsys) == [line]
    with pytest.raises(SystemExit) as stop:
        classify(["train", "--model", "cnn1d", "--data", str(empty), "--out", str(out), "--activation", "bogus"])
    assert stop.value.code == 2 and "argument --activation: pick one of relu, elu" in errors(capsys)[-1]
    with pytest.raises(UsageError, match=r"^--activation bogus: pick one of relu, elu, .*not 'bogus'$"):
        train_classifier("cnn1d", RunSpec(out, empty), activation="bogus")
    assert not out.exists()


def test_a_full_disk_is_named_in_one_line(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"part")
        with open("/dev/full", "wb") as full:
            full.write(b"x" * 65536)

    with pytest.raises(BadFileError, match=f"^{tmp_path / 'history.csv'}: no space left on the device") as err:
        atomic_write(tmp_path / "history.csv", write)
    assert "\n" not in str(err.value) and list(tmp_path.iterdir()) == []
