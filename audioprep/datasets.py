"""Dataset adapters: one reader per published on-disk layout, grouped splits, and a tolerant loader.

Every adapter returns `Example`s carrying a source-recording id, so that splits never put clips
of one recording (or one speaker, for Common Voice) on both sides.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from audioprep.errors import AudioError, UsageError
from audioprep.io import is_audio_file, load_audio
from audioprep.stream import scan_audio

# Every on-disk layout an adapter reads (and `audioprep.synth` generates).
LAYOUTS = ("deepasmr", "asmr85", "commonvoice", "adell", "fsd50k")
FSD50K_AUDIO = {"dev": "FSD50K.dev_audio", "eval": "FSD50K.eval_audio"}
FSD50K_TRUTH = "FSD50K.ground_truth"


@dataclass(frozen=True)
class Example:
    """One audio file of a dataset: its labels, the recording it came from, and a published split if any."""

    path: Path
    labels: tuple[str, ...]
    source: str
    split: str | None = None

    @property
    def label(self) -> str:
        return self.labels[0]


def _require_dir(root) -> Path:
    root = Path(root)
    if not root.exists():
        raise UsageError(f"{root}: no such dataset folder")
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder")
    return root


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_audio_file(p))


def read_asmr85(root) -> list[Example]:
    """ASMR-85: a folder of long ASMR recordings; every file is its own source, label "asmr"."""
    root = _require_dir(root)
    files = _audio_files(root)
    if not files:
        raise UsageError(f"{root}: no audio files (expected ASMR-85 long recordings)")
    return [Example(p, ("asmr",), f"asmr85/{p.stem}") for p in files]


def read_commonvoice(root) -> list[Example]:
    """Common Voice: `clips/` + `validated.tsv`; grouped by speaker (client_id), label "speech"."""
    root = _require_dir(root)
    table = root / "validated.tsv"
    if not table.exists():
        raise UsageError(f"{table}: missing (Common Voice layout needs clips/ and validated.tsv)")
    examples = []
    with table.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row.get("path"):
                continue
            speaker = row.get("client_id") or row["path"]
            examples.append(Example(root / "clips" / row["path"], ("speech",), f"commonvoice/{speaker}"))
    if not examples:
        raise UsageError(f"{table}: lists no clips")
    return examples


def read_trigger_folders(root) -> list[Example]:
    """`<root>/<label>/*.wav|flac|ogg|mp3`, label = the folder path under root (e.g. "tapping/glass")."""
    root = _require_dir(root)
    examples = []
    for folder in sorted(p for p in root.rglob("*") if p.is_dir() and not p.name.startswith(".")):
        label = folder.relative_to(root).as_posix()
        for path in _audio_files(folder):
            examples.append(Example(path, (label,), f"{label}/{path.stem}"))
    if not examples:
        raise UsageError(f"{root}: no <label>/<audio file> folders found")
    return examples


def read_fsd50k_vocabulary(root) -> list[str]:
    path = Path(root) / FSD50K_TRUTH / "vocabulary.csv"
    if not path.exists():
        raise UsageError(f"{path}: missing (FSD50K layout)")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = sorted((int(r[0]), r[1]) for r in csv.reader(fh) if r)
    return [name for _, name in rows]


def read_fsd50k(root) -> tuple[list[Example], list[str]]:
    """FSD50K: dev (split column train/val) and eval clips with their comma-separated labels."""
    root = _require_dir(root)
    vocabulary = read_fsd50k_vocabulary(root)
    examples = []
    for part, audio_dir in FSD50K_AUDIO.items():
        table = root / FSD50K_TRUTH / f"{part}.csv"
        if not table.exists():
            raise UsageError(f"{table}: missing (FSD50K layout)")
        with table.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                labels = tuple(x for x in row["labels"].split(",") if x)
                split = row.get("split", "eval") if part == "dev" else "eval"
                path = root / audio_dir / f"{row['fname']}.wav"
                examples.append(Example(path, labels, f"fsd50k/{row['fname']}", split))
    return examples, vocabulary


def detect_layout(root) -> str:
    """Name the layout a folder holds, from its published structure (or its name for ASMR-85)."""
    root = _require_dir(root)
    if (root / FSD50K_TRUTH).is_dir():
        return "fsd50k"
    if (root / "validated.tsv").exists() and (root / "clips").is_dir():
        return "commonvoice"
    subdirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if subdirs and any(any(q.is_dir() for q in d.iterdir()) for d in subdirs):
        return "adell"
    if subdirs:
        return "deepasmr"
    if _audio_files(root):
        return "asmr85"
    raise UsageError(f"{root}: no known dataset layout ({', '.join(LAYOUTS)})")


def read_layout(root, layout: str | None = None) -> list[Example]:
    """Examples of any single-layout folder."""
    layout = layout or detect_layout(root)
    if layout == "fsd50k":
        return read_fsd50k(root)[0]
    readers = {"asmr85": read_asmr85, "commonvoice": read_commonvoice}
    return readers.get(layout, read_trigger_folders)(root)


def split_by_source(
    examples: Iterable[Example], fractions=(0.7, 0.15, 0.15), seed: int = 0
) -> dict[str, list[Example]]:
    """Deterministic train/val/test split grouped by source and stratified by first label.

    Each label's sources are shuffled with `seed` and dealt out by cumulative fraction; with
    at least three sources a label gets at least one in every split.
    """
    if abs(sum(fractions) - 1.0) > 1e-6 or len(fractions) != 3:
        raise ValueError(f"fractions must be three numbers summing to 1, got {fractions}")
    examples = list(examples)
    sources_by_label: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        if ex.source not in sources_by_label[ex.label]:
            sources_by_label[ex.label].append(ex.source)
    rng = np.random.default_rng(seed)
    split_of: dict[str, str] = {}
    for label in sorted(sources_by_label):
        sources = sorted(sources_by_label[label])
        rng.shuffle(sources)
        n = len(sources)
        n_val = max(1, round(n * fractions[1])) if n >= 3 else 0
        n_test = max(1, round(n * fractions[2])) if n >= 2 else 0
        n_train = n - n_val - n_test
        for i, source in enumerate(sources):
            if source in split_of:
                continue
            split_of[source] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    splits: dict[str, list[Example]] = {"train": [], "val": [], "test": []}
    for ex in examples:
        splits[split_of[ex.source]].append(ex)
    return splits


@dataclass
class ScanResult:
    """What a tolerant pass over many files loaded, and which files it had to skip and why."""

    loaded: list[tuple[Example, np.ndarray]] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)

    def report(self, loaded: int | None = None) -> str:
        """`loaded` counts the files read where the audio is held elsewhere (a `pcm_store`)."""
        loaded = len(self.loaded) if loaded is None else loaded
        if not self.bad:
            return f"{loaded} files read, none skipped"
        lines = [f"{loaded} files read, {len(self.bad)} skipped:"]
        lines += [f"  {path}: {reason}" for path, reason in self.bad]
        return "\n".join(lines)


def load_examples(examples: Iterable[Example], sr: int, mono: bool = True, progress: bool = True) -> ScanResult:
    """Load every example's audio; unreadable files are skipped and named in the result, never fatal."""
    examples = list(examples)
    result = ScanResult()
    for ex in tqdm(examples, desc="reading audio", unit="file", disable=not progress, leave=False):
        try:
            audio, _ = load_audio(ex.path, sr=sr, mono=mono)
        except AudioError as err:
            result.bad.append((ex.path, err.reason))
            continue
        result.loaded.append((ex, audio))
    return result


@dataclass
class FileCheck:
    """What `check_examples` found: each usable file's seconds, the unusable files and why, and the
    files cut short (usable as far as they go) as DecodeStatus.note() lines."""

    seconds: dict[Path, float] = field(default_factory=dict)
    bad: list[tuple[Path, str]] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)


def check_examples(examples: Iterable[Example]) -> FileCheck:
    """Decode every example's file block by block, checking each sample is finite, without holding
    it (an hours-long file costs one block of memory); a file's seconds are its header's figure, or
    where decoding stopped if it is cut short."""
    result = FileCheck()
    for ex in examples:
        try:
            status = scan_audio(ex.path)
        except AudioError as err:
            result.bad.append((ex.path, err.reason))
            continue
        result.seconds[ex.path] = status.duration
        if status.truncated:
            result.truncated.append(status.note())
    return result
