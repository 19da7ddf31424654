"""LEAN's inputs as TFRecord shards: 16-bit PCM clips with their labels, for training past one machine.

`write_shards` turns each split of a `LeanData` (FSD50K, or a labelled folder such as ESC-50 or the
trigger folders) into files `SPLIT-NNNNN.tfrecord` of about `shard_mb` MB each, one record per clip
(`pcm`: little-endian int16 bytes, `labels`: the clip's multi-hot row). `manifest.json` lists every
finished shard with its first clip, clip and patch counts and SHA-256; a shard is committed by
renaming it into place and then recording it in the manifest, so a killed `prepare` continues at
the first unrecorded shard and never writes a clip twice. Training checks each shard it reads against
the manifest's size and SHA-256 first, so a damaged file is named before any step runs.

`ShardBatches` reads one split's shards back as training batches: the shard order and the patch
order are stateless functions of (seed, epoch) (so resume is exact, as with `asmr_training.batches`),
shards are read interleaved and decoded in parallel, patches are shuffled in windows and the next
batches prefetched. Under several workers each reads its own files (`shards[worker::workers]`), and
every worker takes the same number of batches. The memory-mapped store (`lean.data`) stays the
single-machine path; both give the same patches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from audioprep import console
from audioprep.errors import BadFileError, UsageError
from audioprep.files import atomic_write, read_json, write_json
from audioprep.io import file_sha256
from audioprep.pcm_store import PCM_SCALE, to_pcm16
from lean.data import ClipSet, LeanData
from lean.params import LeanParams

MANIFEST = "manifest.json"
FORMAT = 1
SHUFFLE_WINDOW = 1024  # patches permuted together; a whole shard's clips are interleaved before it


@dataclass(frozen=True)
class ShardParams:
    """How `prepare` cuts the shards."""

    shard_mb: float = 256.0


def shard_name(split: str, number: int) -> str:
    return f"{split}-{number:05d}.tfrecord"


def patches_of(length: int, params: LeanParams) -> int:
    """1 s patches a clip of `length` samples gives (lean.data.patch_index's rule)."""
    return max(1, length // params.patch_samples)


def _record(pcm: np.ndarray, labels: np.ndarray) -> bytes:
    feature = {
        "pcm": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pcm.astype("<i2").tobytes()])),
        "labels": tf.train.Feature(float_list=tf.train.FloatList(value=labels.tolist())),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _identity(data: LeanData, params: LeanParams, shard: ShardParams) -> dict:
    """What a resumed `prepare` must find unchanged in the manifest."""
    return {"format": FORMAT, "sample_rate": params.sample_rate, "patch_samples": params.patch_samples,
            "vocabulary": data.vocabulary, "multi_label": data.multi_label, "protocol": data.protocol,
            "shard_mb": shard.shard_mb, "clips": {name: len(clips) for name, clips in data.splits.items()}}


def write_shards(data: LeanData, out, params: LeanParams = LeanParams(), shard: ShardParams = ShardParams(),
                 progress: bool = True) -> dict:
    """Write (or finish) the shards of every split of `data` into `out`; returns the manifest."""
    out = Path(out)
    identity = _identity(data, params, shard)
    manifest = {**identity, "splits": {name: [] for name in data.splits}}
    if (out / MANIFEST).exists():
        found = read_json(out / MANIFEST)
        changed = sorted(key for key in identity if found.get(key) != identity[key])
        if changed:
            raise UsageError(f"{out}: holds shards of other data or settings ({', '.join(changed)} differ); "
                             "pick another --out")
        manifest = found
    out.mkdir(parents=True, exist_ok=True)
    recorded = {entry["file"] for entries in manifest["splits"].values() for entry in entries}
    for leftover in out.glob("*.tfrecord"):  # written, then killed before the manifest named it
        if leftover.name not in recorded:
            leftover.unlink()
    budget = shard.shard_mb * 2**20
    for name, clips in data.splits.items():
        entries = manifest["splits"][name]
        start = sum(entry["clips"] for entry in entries)
        lengths = clips.lengths()
        bar = console.bar(total=len(clips), initial=start, desc=f"shards {name}", unit="clip", enabled=progress,
                   leave=False)
        while start < len(clips):
            stop = start + 1
            while stop < len(clips) and 2 * lengths[start : stop + 1].sum() <= budget:
                stop += 1
            entries.append(_write_shard(out, name, len(entries), clips, start, stop, params))
            write_json(out / MANIFEST, manifest)  # the commit point of the shard
            bar.update(stop - start)
            start = stop
        bar.close()
    return manifest


def _write_shard(out: Path, split: str, number: int, clips: ClipSet, start: int, stop: int, params: LeanParams) -> dict:
    path = out / shard_name(split, number)

    def write(tmp: Path) -> None:
        with tf.io.TFRecordWriter(str(tmp)) as writer:
            for i in range(start, stop):
                writer.write(_record(to_pcm16(np.asarray(clips.clips[i])), clips.labels[i]))

    atomic_write(path, write)
    lengths = clips.lengths()[start:stop]
    return {"file": path.name, "first_clip": start, "clips": stop - start, "samples": int(lengths.sum()),
            "patches": int(sum(patches_of(int(n), params) for n in lengths)), "bytes": path.stat().st_size,
            "sha256": file_sha256(path)}


def read_manifest(folder) -> dict:
    """The manifest of a shard folder, with every shard's file present."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        raise UsageError(f"{folder}: no {MANIFEST}; write shards with `python -m lean prepare`")
    manifest = read_json(folder / MANIFEST)
    for entries in manifest.get("splits", {}).values():
        for entry in entries:
            name = entry.get("file") if isinstance(entry, dict) else None
            if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
                raise BadFileError(folder / MANIFEST, f"shard entry {name!r} is not a file name inside {folder}")
            if not (folder / name).exists():
                raise BadFileError(folder / name, f"missing, though {MANIFEST} lists it")
    return manifest


def damaged(folder, entries: list[dict]) -> str | None:
    """Why the first of `entries` whose size or SHA-256 differs from the manifest's is unusable, naming it."""
    folder = Path(folder)
    for entry in entries:
        path = folder / entry["file"]
        if path.stat().st_size != entry.get("bytes"):
            return f"{path}: damaged ({path.stat().st_size} bytes, {MANIFEST} says {entry.get('bytes')})"
        if file_sha256(path) != entry.get("sha256"):
            return f"{path}: damaged (its SHA-256 differs from {MANIFEST}'s)"
    return None


def verify(folder) -> list[str]:
    """Shard files whose size or SHA-256 differs from the manifest's (damaged or replaced)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    return [entry["file"] for entries in manifest["splits"].values() for entry in entries if damaged(folder, [entry])]


def _patches(pcm, labels, patch_samples: int):
    """(k, patch_samples) float32 patches of one int16 clip, cut as lean.data cuts them, and k label rows."""
    wave = tf.cast(pcm, tf.float32) / PCM_SCALE
    length = tf.shape(wave)[0]
    count = tf.maximum(length // patch_samples, 1)
    repeated = tf.tile(wave, [patch_samples // tf.maximum(length, 1) + 1])[:patch_samples]  # a clip under 1 s
    waves = tf.cond(length >= patch_samples,
                    lambda: tf.reshape(wave[: count * patch_samples], [count, patch_samples]),
                    lambda: repeated[None])
    return waves, tf.repeat(labels[None], count, axis=0)


class ShardBatches(keras.utils.PyDataset):
    """One split's shards as training batches of `batch_size`, in an order fixed by (seed, epoch).

    Batches are read in order (`__getitem__(0)`, `1`, ...), as Keras `fit` and the multi-worker loop
    read them; `epoch` is set as each epoch begins (asmr_training.run_dir). With `workers` > 1 each worker reads
    its own files and yields its share of every global batch (`per_worker`).
    """

    def __init__(self, folder, split: str, params: LeanParams = LeanParams(), seed: int = 0, workers: int = 1,
                 worker: int = 0, vocabulary: list[str] | None = None):
        super().__init__()
        self.folder, self.params, self.seed = Path(folder), params, seed
        manifest = read_manifest(folder)
        if vocabulary is not None and manifest["vocabulary"] != list(vocabulary):
            raise UsageError(f"{folder}: the shards' labels differ from the dataset's vocabulary")
        if manifest["patch_samples"] != params.patch_samples or manifest["sample_rate"] != params.sample_rate:
            raise UsageError(f"{folder}: shards hold {manifest['sample_rate']} Hz audio in "
                             f"{manifest['patch_samples']}-sample patches; the model needs {params.sample_rate} Hz "
                             f"and {params.patch_samples}")
        entries = manifest["splits"].get(split) or []
        if len(entries) < workers:
            raise UsageError(f"{folder}: {len(entries)} {split} shard(s) for {workers} workers; "
                             "prepare with a smaller --shard-mb")
        if params.batch_size % workers:
            raise UsageError(f"--batch-size {params.batch_size}: must be a multiple of the {workers} workers")
        self.per_worker = workers > 1
        self.batch_size = params.batch_size // workers
        self.classes = len(manifest["vocabulary"])
        mine = entries[worker::workers]
        problem = damaged(self.folder, mine)  # before training: a bad record would otherwise stop it part-way
        if problem:
            raise UsageError(f"{problem}; re-run `python -m lean prepare` into a new folder")
        self.files = [str(self.folder / e["file"]) for e in mine]
        least = min(sum(e["patches"] for e in entries[w::workers]) for w in range(workers))
        self.steps = least // self.batch_size  # the same on every worker
        self.epoch = 0
        self._iterator, self._position = None, (None, 0)

    def __len__(self) -> int:
        return self.steps

    def dataset(self, epoch: int) -> tf.data.Dataset:
        """This worker's batches of `epoch`."""
        seed = tf.constant([self.seed, epoch], tf.int64)
        files = tf.random.experimental.stateless_shuffle(tf.constant(self.files), seed=seed)
        spec = {"pcm": tf.io.FixedLenFeature([], tf.string), "labels": tf.io.FixedLenFeature([self.classes], tf.float32)}
        patch_samples = self.params.patch_samples

        def decode(record):
            example = tf.io.parse_single_example(record, spec)
            return _patches(tf.io.decode_raw(example["pcm"], tf.int16), example["labels"], patch_samples)

        def permute(index, batch):
            waves, labels = batch
            window = seed + tf.stack([tf.zeros([], tf.int64), index + 1])
            order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(waves)[0]), seed=window)
            return tf.gather(waves, order), tf.gather(labels, order)

        ds = tf.data.Dataset.from_tensor_slices(files).interleave(
            tf.data.TFRecordDataset, cycle_length=min(4, len(self.files)), num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True)
        ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)  # one clip's patches
        ds = ds.rebatch(SHUFFLE_WINDOW).enumerate().map(permute, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.rebatch(self.batch_size, drop_remainder=True).take(self.steps).prefetch(tf.data.AUTOTUNE)

    def __getitem__(self, index: int):
        if not 0 <= index < self.steps:
            raise IndexError(index)
        if self._position != (self.epoch, index):
            if index:
                raise IndexError(f"ShardBatches reads batches in order: asked for {index} of epoch {self.epoch}")
            self._iterator = self.dataset(self.epoch).as_numpy_iterator()
        self._position = (self.epoch, index + 1)
        return next(self._iterator)
