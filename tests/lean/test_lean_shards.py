"""lean.shards and `lean prepare`: every clip once, a manifest with checksums, resume after a kill, same patches as the store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from audioprep.errors import BadFileError, UsageError
from audioprep.pcm_store import to_pcm16
from lean.data import ClipSet, LeanData, patch_index, read_patches
from lean.params import LeanParams
from lean.shards import MANIFEST, ShardBatches, ShardParams, read_manifest, verify, write_shards

PARAMS = LeanParams(batch_size=5)
SHARD = ShardParams(shard_mb=0.1)  # about 52,000 samples: a few clips per shard


def clips(n: int, seed: int) -> ClipSet:
    """n clips of 0.4 to 2.6 s at 16 kHz, labels two of three."""
    rng = np.random.default_rng(seed)
    audio = [to_pcm16(0.2 * rng.standard_normal(int(16000 * (0.4 + 0.3 * i)))) / 32768.0 for i in range(n)]
    labels = np.eye(3, dtype="float32")[np.arange(n) % 3] + np.eye(3, dtype="float32")[(np.arange(n) + 1) % 3]
    return ClipSet([a.astype("float32") for a in audio], labels, [Path(f"c{i}.wav") for i in range(n)])


@pytest.fixture(scope="module")
def data() -> LeanData:
    return LeanData({"train": clips(8, 0), "val": clips(3, 1)}, ["a", "b", "c"], "8 + 3 clips", Path("mem"))


def records(folder: Path, split: str) -> list[tuple[np.ndarray, np.ndarray]]:
    import tensorflow as tf

    spec = {"pcm": tf.io.FixedLenFeature([], tf.string), "labels": tf.io.FixedLenFeature([3], tf.float32)}
    out = []
    for entry in read_manifest(folder)["splits"][split]:
        for raw in tf.data.TFRecordDataset(str(folder / entry["file"])):
            example = tf.io.parse_single_example(raw, spec)
            out.append((np.frombuffer(example["pcm"].numpy(), "<i2"), example["labels"].numpy()))
    return out


def test_every_clip_lands_once_in_order_with_counts_and_checksums(data, tmp_path):
    manifest = write_shards(data, tmp_path, PARAMS, SHARD, progress=False)
    for split, clip_set in data.splits.items():
        entries = manifest["splits"][split]
        stored = records(tmp_path, split)
        assert len(stored) == len(clip_set) == sum(e["clips"] for e in entries)
        assert [e["first_clip"] for e in entries] == list(np.cumsum([0] + [e["clips"] for e in entries])[:-1])
        for (pcm, labels), audio, row in zip(stored, clip_set.clips, clip_set.labels, strict=True):
            np.testing.assert_array_equal(pcm, to_pcm16(audio))
            np.testing.assert_array_equal(labels, row)
        for entry in entries:
            assert entry["sha256"] == hashlib.sha256((tmp_path / entry["file"]).read_bytes()).hexdigest()
    assert len(manifest["splits"]["train"]) >= 3 and verify(tmp_path) == []
    (tmp_path / manifest["splits"]["train"][1]["file"]).write_bytes(b"damaged")
    assert verify(tmp_path) == [manifest["splits"]["train"][1]["file"]]


def test_training_names_a_damaged_shard_before_any_step_and_a_hostile_manifest(data, tmp_path):
    """A shard cut short or flipped in place is named before the first batch; a manifest cannot name outside files."""
    manifest = write_shards(data, tmp_path, PARAMS, SHARD, progress=False)
    second = tmp_path / manifest["splits"]["train"][1]["file"]
    raw = bytearray(second.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, one byte flipped
    second.write_bytes(bytes(raw))
    with pytest.raises(UsageError, match=rf"{second.name}: damaged \(its SHA-256 differs from manifest.json's\)"):
        ShardBatches(tmp_path, "train", PARAMS)
    second.write_bytes(bytes(raw[:100]))
    with pytest.raises(UsageError, match=rf"{second.name}: damaged \(100 bytes, manifest.json says"):
        ShardBatches(tmp_path, "train", PARAMS)
    hostile = json.loads((tmp_path / MANIFEST).read_text())
    hostile["splits"]["train"][0]["file"] = "../victim.tfrecord"
    (tmp_path / MANIFEST).write_text(json.dumps(hostile))
    with pytest.raises(BadFileError, match=r"shard entry '../victim.tfrecord' is not a file name inside"):
        read_manifest(tmp_path)


class Killed(BaseException):
    """A simulated kill: nothing in the writer may catch it."""


def test_a_killed_prepare_continues_at_the_next_unwritten_shard(data, tmp_path, monkeypatch):
    from lean import shards

    whole = write_shards(data, tmp_path / "whole", PARAMS, SHARD, progress=False)
    real, calls = shards._write_shard, []

    def dies_at_third(out, split, number, *args):
        calls.append((split, number))
        entry = real(out, split, number, *args)
        if len(calls) == 3:  # renamed into place, killed before the manifest names it
            raise Killed
        return entry

    monkeypatch.setattr(shards, "_write_shard", dies_at_third)
    with pytest.raises(Killed):
        write_shards(data, tmp_path / "cut", PARAMS, SHARD, progress=False)
    assert len(json.loads((tmp_path / "cut" / MANIFEST).read_text())["splits"]["train"]) == 2
    calls.clear()
    monkeypatch.setattr(shards, "_write_shard", real)
    resumed = write_shards(data, tmp_path / "cut", PARAMS, SHARD, progress=False)
    assert resumed == whole  # same shards, same checksums: nothing written twice, nothing lost
    assert sorted(p.name for p in (tmp_path / "cut").iterdir()) == sorted(p.name for p in (tmp_path / "whole").iterdir())
    with pytest.raises(UsageError, match="other data or settings"):
        write_shards(data, tmp_path / "cut", PARAMS, ShardParams(shard_mb=1.0), progress=False)


def test_shards_give_the_store_patches_in_an_order_fixed_by_seed_and_epoch(data, tmp_path):
    write_shards(data, tmp_path, PARAMS, SHARD, progress=False)
    clip_set = data.splits["train"]
    store = read_patches(clip_set, patch_index(clip_set, PARAMS), PARAMS)
    batches = ShardBatches(tmp_path, "train", PARAMS, seed=3)
    assert len(batches) == len(store[0]) // PARAMS.batch_size

    def epoch(reader, e):
        reader.epoch = e
        return [reader[i] for i in range(len(reader))]

    first = epoch(batches, 0)
    waves = np.concatenate([w for w, _ in first])
    labels = np.concatenate([y for _, y in first])
    key = lambda w: w.tobytes()  # noqa: E731
    store_rows = {key(w): y for w, y in zip(*store, strict=True)}
    assert len({key(w) for w in waves}) == len(waves)  # no patch twice
    for w, y in zip(waves, labels, strict=True):
        np.testing.assert_array_equal(store_rows[key(w)], y)  # a store patch, with its labels
    again = epoch(ShardBatches(tmp_path, "train", PARAMS, seed=3), 0)
    for (a, _), (b, _) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.concatenate([w for w, _ in epoch(batches, 1)]), waves)
    with pytest.raises(IndexError, match="in order"):
        batches[1]


def test_two_workers_read_disjoint_files_and_take_the_same_number_of_batches(data, tmp_path):
    write_shards(data, tmp_path, PARAMS, SHARD, progress=False)
    params = LeanParams(batch_size=4)
    parts = [ShardBatches(tmp_path, "train", params, workers=2, worker=w) for w in range(2)]
    assert not set(parts[0].files) & set(parts[1].files) and parts[0].batch_size == 2
    assert len(parts[0]) == len(parts[1]) > 0 and parts[0].per_worker


def test_prepare_cli_shards_a_trigger_folder_and_resumes(small_layout, tmp_path, capsys):
    from lean.__main__ import main

    root = small_layout("deepasmr")
    argv = ["prepare", "--data", str(root), "--out", str(tmp_path / "shards"), "--shard-mb", "0.5"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    manifest = read_manifest(tmp_path / "shards")
    assert manifest["multi_label"] is False and len(manifest["vocabulary"]) > 1
    train = manifest["splits"]["train"]
    assert f"train: {sum(e['clips'] for e in train)} clips" in printed and len(train) > 1
    assert main(argv) == 0 and read_manifest(tmp_path / "shards") == manifest  # a finished folder stays as it is



def test_training_on_shards_ends_where_training_on_the_store_does(data, untrained_yamnet, tmp_path, monkeypatch):
    """One batch of every patch per epoch, so the shards' order cannot matter: the head trained through the frozen
    YAMNet on the shards' batches ends where the same gradient steps on the store's batches end (the store's
    cached-embedding probe, a different solver, is turned off here)."""
    from asmr_training.run_spec import RunSpec
    from lean import train
    from lean.train import train_variant

    monkeypatch.setattr(train, "uses_probe", lambda variant, p: False)

    params = LeanParams(batch_size=len(patch_index(data.splits["train"], PARAMS)), epochs=2)
    write_shards(data, tmp_path / "shards", params, SHARD, progress=False)
    models, history = {}, {}
    for name, shards in (("store", None), ("shards", tmp_path / "shards")):
        models[name] = train_variant(RunSpec(tmp_path / name), params, "yamnet_frozen", data, untrained_yamnet,
                                     verbose=0, shards=shards).model
        history[name] = json.loads((tmp_path / name / "state.json").read_text())["history"]
    probe = {name: json.loads((tmp_path / name / "params.json").read_text())["linear_probe_on_cached_embeddings"]
             for name in models}
    assert probe == {"store": False, "shards": False}
    assert len(history["shards"]) == 2 and history["shards"][1]["loss"] < history["shards"][0]["loss"]
    for a, b in zip(history["store"], history["shards"], strict=True):
        np.testing.assert_allclose([a["loss"], a["val_loss"]], [b["loss"], b["val_loss"]], rtol=1e-4)
    for a, b in zip(models["store"].get_weights(), models["shards"].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
