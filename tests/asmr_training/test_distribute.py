"""asmr_training.distribute: mirrored equals default, loopback workers agree, a lost worker stops both, mixed precision.

Strategies need TensorFlow configured before it starts (two logical CPU devices, a TF_CONFIG), so
those runs are subprocesses of this file (`python tests/test_distribute.py ROLE ...`), as few as
the checks allow: one for the mirrored comparisons (test_distribute_mel's too), two workers that train both models and then
start a run the test kills, and two workers that resume it. Workers listen on free 127.0.0.1 ports.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ["a", "b", "c"]
SMALL = dict(filters=4, dense_units=8, dropout=0.0, batch_size=8, epochs=1, patience=0)
KILL_EPOCHS = 4  # the chief cannot finish three more epochs between a checkpoint and the kill


def tiny_corpus(seed: int = 0):
    """Three separable classes of (16 frames, 8 bands) "log-mels": 24 train, 6 val, 6 test inputs."""
    from asmr_classify.data import Corpus
    from audioprep.slices import SliceSet

    rng = np.random.default_rng(seed)

    def split(n: int, name: str) -> SliceSet:
        y = np.arange(n) % 3
        x = rng.standard_normal((n, 16, 8)).astype("float32") + y[:, None, None] * 2.0
        files = [f"{name}{i}.wav" for i in range(n)]
        return SliceSet(x, y, files, CLASSES, files)

    splits = {"train": split(24, "tr"), "val": split(6, "va"), "test": split(6, "te")}
    return Corpus(splits, CLASSES, "mel", 16000, 16000, Path("tiny"), generated=True)


def tiny_lean_data():
    """A LeanData of three short clips per split over two labels, from in-memory arrays."""
    from lean.data import ClipSet, LeanData

    rng = np.random.default_rng(1)

    def clips(n: int) -> ClipSet:
        audio = [0.1 * rng.standard_normal(16000 + 4000 * i).astype("float32") for i in range(n)]
        labels = np.eye(2, dtype="float32")[np.arange(n) % 2]
        return ClipSet(audio, labels, [Path(f"c{i}.wav") for i in range(n)])

    return LeanData({"train": clips(4), "val": clips(2)}, ["x", "y"], "tiny", Path("tiny"))


def lean_params():
    from lean.params import LeanParams

    return LeanParams(batch_size=4, epochs=1)


def weights_digest(model) -> list[float]:
    return [float(np.sum(np.abs(w))) for w in model.get_weights()]


# ---------------------------------------------------------------------------------------- worker side


def worker(role: str, out: str, *rest: str) -> None:
    """What one subprocess does; it prints one JSON line the test reads."""
    import tensorflow as tf

    from asmr_classify.train import train_classifier
    from asmr_training.distribute import DistributeParams, distribution
    from asmr_training.run_dir import HISTORY
    from asmr_training.run_spec import RunSpec

    if role == "mirrored":  # the classifier here, the mel generators in test_distribute_mel: one strategy
        from test_distribute_mel import mirrored_results

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        result, mirrored = {}, distribution(DistributeParams("mirrored"))
        for name, dist in (("default", distribution()), ("mirrored", mirrored)):
            train_classifier("cnn1d", RunSpec(Path(out) / name, distribute=dist.params), corpus=tiny_corpus(),
                             verbose=0, **{**SMALL, "epochs": 3})
            result[name] = {"replicas": dist.replicas, "history": (Path(out) / name / HISTORY).read_text()}
        result["mel"] = mirrored_results(out, mirrored)
        print(json.dumps(result), flush=True)
        return
    dist = distribution(DistributeParams("multiworker"))
    if role == "both":  # one epoch of each model, then the run the test kills
        from lean.train import train_variant

        classifier = keeper()
        lean = train_variant(RunSpec(Path(out) / "lean", distribute=dist.params), lean_params(), "lean",
                             tiny_lean_data(), None, verbose=0).model
        train_classifier("cnn1d", RunSpec(Path(out) / "classifier", distribute=dist.params), corpus=tiny_corpus(),
                         verbose=0, callbacks=[classifier], **SMALL)
        print(json.dumps({"chief": dist.chief, "lean": weights_digest(lean),
                          "classifier": weights_digest(classifier.model)}), flush=True)
    from audioprep.cli import run_cli

    def long_run(_argv):
        trained = keeper()
        train_classifier("cnn1d", RunSpec(Path(out) / "long", resume=role == "resume", distribute=dist.params),
                         corpus=tiny_corpus(), verbose=0, callbacks=[trained], **{**SMALL, "epochs": KILL_EPOCHS})
        print(json.dumps({"chief": dist.chief, "classifier": weights_digest(trained.model)}), flush=True)

    sys.exit(run_cli(long_run, []))


def keeper():
    """A callback that keeps the model it trained (a worker's own weights, not the chief's files)."""
    import keras

    return keras.callbacks.Callback()


def last_model(folder: Path):
    from asmr_training.model_files import LAST, load_model

    return load_model(folder / LAST)


# ---------------------------------------------------------------------------------------- test side


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def spawn(role: str, out: Path, tf_config: dict | None = None, name: str = "") -> subprocess.Popen:
    """`worker(role, out)` in a subprocess whose output goes to files (a pipe nobody reads could fill up)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    if tf_config:
        env["TF_CONFIG"] = json.dumps(tf_config)
    log = out / f"{role}{name}"
    process = subprocess.Popen([sys.executable, __file__, role, str(out)], cwd=ROOT, env=env, text=True,
                               stdout=open(f"{log}.out", "w"), stderr=open(f"{log}.err", "w"))  # noqa: SIM115
    process.log = log
    return process


def cluster(role: str, out: Path) -> list[subprocess.Popen]:
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    return [spawn(role, out, {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}, f"-{i}")
            for i in range(2)]


def results(process: subprocess.Popen, timeout: float = 600) -> tuple[list[dict], str]:
    """The JSON lines the process printed, and its stderr, once it has ended."""
    process.wait(timeout=timeout)
    out = Path(f"{process.log}.out").read_text()
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")], Path(f"{process.log}.err").read_text()


def state_epoch(folder: Path) -> int:
    try:
        return json.loads((folder / "state.json").read_text())["epoch"]
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


@pytest.mark.slow
def test_mirrored_over_two_cpu_devices_follows_the_default_loss_curve(tmp_path):
    """A classifier here; the VAE and the cGAN (their own steps) in the same process: test_distribute_mel."""
    from test_distribute_mel import assert_mirrored_follows_default

    process = spawn("mirrored", tmp_path)
    (result,), err = results(process)
    assert process.returncode == 0, err[-3000:]
    assert_mirrored_follows_default(result["mel"])
    assert (result["default"]["replicas"], result["mirrored"]["replicas"]) == (1, 2)
    curves = [np.genfromtxt(result[name]["history"].splitlines(), delimiter=",", names=True)
              for name in ("default", "mirrored")]
    assert len(curves[0]) == 3
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(curves[1][key], curves[0][key], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_loopback_workers_agree_and_a_lost_worker_stops_both_then_both_resume(tmp_path):
    first = cluster("both", tmp_path)
    long_run = tmp_path / "long"
    deadline = time.monotonic() + 600
    while state_epoch(long_run) < 1:
        assert time.monotonic() < deadline and first[0].poll() is None, results(first[0])[1][-2000:]
        time.sleep(0.05)
    first[1].kill()
    chief, err = results(first[0])
    other, _ = results(first[1])
    # (b) both models trained one epoch on both workers to the same weights; only the chief wrote
    assert first[0].returncode == 2 and chief[0]["chief"] and not other[0]["chief"]
    for name in ("lean", "classifier"):
        np.testing.assert_allclose(chief[0][name], other[0][name], rtol=1e-6)
    for name in ("lean", "classifier"):
        assert sorted(p.name for p in (tmp_path / name).glob("resume-*.keras")) == ["resume-0001.keras"]
        assert state_epoch(tmp_path / name) == 1
    # (c) the chief stopped with one clear line; the run resumes on both from its last checkpoint
    assert "error: multiworker: a worker stopped or cannot be reached" in err and "--resume" in err
    stopped_at = state_epoch(long_run)
    assert 1 <= stopped_at < KILL_EPOCHS
    before = json.loads((long_run / "state.json").read_text())["history"]
    second = cluster("resume", tmp_path)
    outputs = [results(p) for p in second]
    assert [p.returncode for p in second] == [0, 0], outputs[0][1][-2000:]
    history = json.loads((long_run / "state.json").read_text())["history"]
    assert [row["epoch"] for row in history] == list(range(KILL_EPOCHS)) and history[:stopped_at] == before
    np.testing.assert_allclose(outputs[0][0][0]["classifier"], outputs[1][0][0]["classifier"], rtol=1e-6)


def test_mixed_precision_trains_resumes_and_its_model_predicts_float32(tmp_path):
    import warnings

    import keras

    from asmr_classify.train import train_classifier
    from asmr_training.distribute import DistributeParams, distribution
    from asmr_training.loss_scale import ReplicaLossScaleOptimizer
    from asmr_training.model_files import load_model
    from asmr_training.run_spec import RunSpec

    corpus = tiny_corpus()
    mixed = DistributeParams(mixed_precision=True)
    dist = distribution(mixed)
    train_classifier("cnn1d", RunSpec(tmp_path / "mixed", distribute=mixed), corpus=corpus, verbose=0, **SMALL)
    with warnings.catch_warnings(record=True) as caught:  # the loss-scale optimizer's state comes back whole
        warnings.simplefilter("always")
        train_classifier("cnn1d", RunSpec(tmp_path / "mixed", resume=True, distribute=mixed), corpus=corpus,
                         verbose=0, **{**SMALL, "epochs": 2})
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    with dist.scope():  # the loss scaling that skips a step when any replica overflows, as saved
        assert isinstance(load_model(tmp_path / "mixed").optimizer, ReplicaLossScaleOptimizer)
    assert keras.mixed_precision.global_policy().name == "float32"  # the policy does not leak
    model = load_model(tmp_path / "mixed")
    policies = {layer.dtype_policy.name for layer in model.layers}
    assert "mixed_float16" in policies and model.layers[-1].dtype_policy.name == "float32"
    probs = np.asarray(model.predict(corpus.splits["test"].x, verbose=0))
    assert probs.dtype == np.float32 and probs.shape == (6, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    history = json.loads((tmp_path / "mixed" / "state.json").read_text())["history"]
    assert len(history) == 2 and all(np.isfinite(row["loss"]) for row in history)


def test_default_strategy_is_the_plain_path(tmp_path):
    """No distribution and an explicit default one train the same run as before: same weights, same history."""
    from asmr_classify.train import train_classifier
    from asmr_training.distribute import DistributeParams
    from asmr_training.run_dir import HISTORY
    from asmr_training.run_spec import RunSpec

    corpus = tiny_corpus()
    plain = train_classifier("cnn1d", RunSpec(tmp_path / "plain"), corpus=corpus, verbose=0, **SMALL).path
    default = train_classifier("cnn1d", RunSpec(tmp_path / "default", distribute=DistributeParams("default")),
                               corpus=corpus, verbose=0, **SMALL).path
    assert (plain / HISTORY).read_text() == (default / HISTORY).read_text()
    for a, b in zip(last_model(plain).get_weights(), last_model(default).get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert json.loads((default / "params.json").read_text())["distribute"]["replicas"] == 1


def test_bad_tf_config_and_batch_are_one_line_errors(monkeypatch):
    from asmr_training.distribute import DistributeParams, Distribution, check_tf_config
    from audioprep.errors import UsageError

    with pytest.raises(UsageError, match="set TF_CONFIG"):
        check_tf_config(None)
    with pytest.raises(UsageError, match="TF_CONFIG: not a cluster spec"):
        check_tf_config('{"cluster": {}}')
    with pytest.raises(UsageError, match="'worker' tasks only"):
        check_tf_config('{"cluster": {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]}, '
                        '"task": {"type": "chief", "index": 0}}')
    with pytest.raises(UsageError, match="task worker 2 is not in the cluster"):
        check_tf_config('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 2}}')
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UsageError, match="--strategy multiworker: set TF_CONFIG"):
        Distribution(DistributeParams("multiworker"))
    assert Distribution().check_batch(7) == 7


@pytest.mark.parametrize(("argv", "message"), [
    (["asmr_classify", "train", "--model", "cnn1d", "--strategy", "multiworker"], "--strategy multiworker: set TF_CONFIG"),
    (["lean", "train", "--strategy", "multiworker", "--yamnet", "standin"],
     "--strategy multiworker --yamnet standin: the stand-in pretraining runs in one process"),
])
def test_every_train_takes_the_flags_and_refuses_what_it_cannot_do_in_one_line(argv, message, monkeypatch, capsys):
    import importlib

    monkeypatch.delenv("TF_CONFIG", raising=False)
    main = importlib.import_module(f"{argv[0]}.__main__").main
    assert main(argv[1:]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    worker(*sys.argv[1:])
