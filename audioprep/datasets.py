"""Dataset adapters: one reader per published on-disk layout, grouped splits, and a tolerant loader.

Every adapter returns `Example`s carrying a source-recording id, so that splits never put clips
of one recording (or one speaker, for Common Voice) on both sides; ESC-50's also carry its fold,
so that its published protocol (5-fold cross-validation on the given folds) can be run as published.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audioprep import console
from audioprep.errors import AudioError, UsageError
from audioprep.grouping import (
    SOURCES_CSV,
    find_duplicates,
    group_pattern,
    merge_duplicate_sources,
    read_sources_csv,
    regroup,
    stem_source,
)
from audioprep.io import is_audio_file, load_audio
from audioprep.stream import scan_audio
from audioprep.tables import read_rows

# Every on-disk layout an adapter reads (and `asmr_corpus` generates).
LAYOUTS = ("deepasmr", "asmr85", "commonvoice", "adell", "fsd50k", "esc50")
FSD50K_AUDIO = {"dev": "FSD50K.dev_audio", "eval": "FSD50K.eval_audio"}
FSD50K_TRUTH = "FSD50K.ground_truth"
ESC50_TABLE = "meta/esc50.csv"
ESC50_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
# Folder levels that name a label in each trigger-folder layout (deeper folders are recordings).
LABEL_DEPTH = {"deepasmr": 1, "adell": 2}
DEFAULT_TEST_FOLD = 1
# Layouts split as their publishers split them, whatever the sources: ESC-50 keeps each recording in one fold.
PUBLISHED_SPLITS = {"esc50": "its published folds (each source recording in one fold)",
                    "fsd50k": "its published dev/eval splits"}


@dataclass(frozen=True)
class Example:
    """One audio file of a dataset: its labels, the recording it came from, and a published split if any."""

    path: Path
    labels: tuple[str, ...]
    source: str
    split: str | None = None
    fold: int | None = None

    @property
    def label(self) -> str:
        return self.labels[0]


@dataclass(frozen=True)
class ReadOptions:
    """How a labelled folder is read (flags --label-depth, --group-by, --esc10; see `add_read_flags`).

    label_depth: folder levels naming the label (None: the layout's); group_by: a regex whose first
    capture group of the file stem names the source (None: the whole stem); esc10: ESC-50's ESC-10 subset."""

    label_depth: int | None = None
    group_by: str | None = None
    esc10: bool = False

    def __post_init__(self):
        if self.group_by is not None:
            group_pattern(self.group_by)  # a bad regex stops here, before any work
        if self.label_depth is not None and self.label_depth < 1:
            raise UsageError(f"--label-depth {self.label_depth}: must be 1 or more")


def add_read_flags(parser) -> None:
    """The flags that say how a dataset folder is read; `read_options(args)` turns them into ReadOptions."""
    from audioprep.cli import int_at_least

    parser.add_argument("--label-depth", type=int_at_least(1), help="folder levels that name a label in trigger "
                        "folders (default: the layout's: 1, Adell's technique/material: 2); deeper folders are "
                        "recordings of that label")
    parser.add_argument("--group-by", metavar="REGEX", help="the first capture group of a file's stem names its "
                        "source recording, kept on one side of a split (default: the whole stem), e.g. "
                        "'^\\d+-(\\d+)-' for ESC's {fold}-{source}-{take}")
    parser.add_argument("--esc10", action="store_true", help="ESC-50: only the ESC-10 subset")


def read_options(args) -> ReadOptions:
    return ReadOptions(label_depth=args.label_depth, group_by=args.group_by, esc10=args.esc10)


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
    for row in read_rows(table, required=("path",), delimiter="\t", quoting=csv.QUOTE_NONE):
        speaker = row.get("client_id") or row["path"]
        examples.append(Example(root / "clips" / row["path"], ("speech",), f"commonvoice/{speaker}"))
    if not examples:
        raise UsageError(f"{table}: lists no clips")
    return examples


def _audio_tree(root: Path) -> list[Path]:
    """Every audio file under root, hidden folders and files skipped, sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and is_audio_file(p)
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def _default_label_depth(files: list[Path], root: Path) -> int:
    """2 when every file lies exactly two folders down (Adell's technique/material), else 1."""
    return LABEL_DEPTH["adell"] if files and {len(p.relative_to(root).parts) for p in files} == {3} else 1


def read_trigger_folders(root, label_depth: int | None = None, group_by: str | None = None) -> list[Example]:
    """`<root>/<label>/*.wav|flac|ogg|mp3`, the label `label_depth` folders deep (e.g. "tapping/glass").

    A file's source is, first found: its row in `root/sources.csv`, the folder below its label (a
    deeper folder is one recording), the first capture group of `group_by` in its stem (the source then
    spans labels), or `<label>/<stem>`. Files above the label depth have no label and are not read."""
    root = _require_dir(root)
    files = _audio_tree(root)
    depth = label_depth or _default_label_depth(files, root)
    pattern = group_pattern(group_by) if group_by else None
    listed = read_sources_csv(root)
    examples = []
    for path in files:
        parts = path.relative_to(root).parts
        if len(parts) <= depth:
            continue
        label = "/".join(parts[:depth])
        rel = path.relative_to(root).as_posix()
        if rel in listed:
            source = listed[rel]
        elif len(parts) > depth + 1:
            source = f"{label}/{parts[depth]}"
        elif pattern is not None:
            source = stem_source(pattern, path)
        else:
            source = f"{label}/{path.stem}"
        examples.append(Example(path, (label,), source))
    if not examples:
        raise UsageError(f"{root}: no <label>/<audio file> folders found (label depth {depth})")
    return examples


def label_tree(root, examples: Iterable[Example]) -> list[str]:
    """The labels of a trigger-folder read, with the recording folders found under each, as `inspect` prints them."""
    root = Path(root)
    files: dict[str, int] = defaultdict(int)
    folders: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ex in examples:
        parts = ex.path.relative_to(root / ex.label).parts
        files[ex.label] += 1
        if len(parts) > 1:
            folders[ex.label][parts[0]] += 1
    lines = []
    for label in sorted(files):
        lines.append(f"{label}/  ({files[label]} files)")
        lines += [f"  {name}/  (one recording of {label}: {n} files)" for name, n in sorted(folders[label].items())]
    return lines


def read_esc50(root, esc10: bool = False) -> list[Example]:
    """ESC-50: `audio/*.wav` + `meta/esc50.csv`, read unchanged; label = category, source = src_file (the
    recording the takes were cut from), fold = the published fold. `esc10`: only the ESC-10 subset."""
    root = _require_dir(root)
    table = root / ESC50_TABLE
    if not table.exists():
        raise UsageError(f"{table}: missing (ESC-50 layout needs audio/ and {ESC50_TABLE})")
    examples = []
    for row in read_rows(table, required=ESC50_COLUMNS):
        fold = row.integer("fold")
        if row["esc10"] not in ("True", "False"):
            raise row.bad(f"esc10 {row['esc10']!r} is not True or False")
        if esc10 and row["esc10"] != "True":
            continue
        examples.append(Example(root / "audio" / row["filename"], (row["category"],), f"esc50/{row['src_file']}",
                                fold=fold))
    if not examples:
        raise UsageError(f"{table}: lists no clips" + (" of ESC-10" if esc10 else ""))
    return examples


def read_fsd50k_vocabulary(root) -> list[str]:
    path = Path(root) / FSD50K_TRUTH / "vocabulary.csv"
    if not path.exists():
        raise UsageError(f"{path}: missing (FSD50K layout)")
    rows = sorted((r.integer("index"), r["name"]) for r in read_rows(path, ("index", "name"), ("index", "name", "mid")))
    return [name for _, name in rows]


def read_fsd50k(root) -> tuple[list[Example], list[str]]:
    """FSD50K: dev (split column train/val) and eval clips with their comma-separated labels."""
    root = _require_dir(root)
    vocabulary = read_fsd50k_vocabulary(root)
    known = set(vocabulary)
    examples = []
    for part, audio_dir in FSD50K_AUDIO.items():
        table = root / FSD50K_TRUTH / f"{part}.csv"
        if not table.exists():
            raise UsageError(f"{table}: missing (FSD50K layout)")
        for row in read_rows(table, required=("fname", "labels")):
            labels = tuple(x for x in row["labels"].split(",") if x)
            if unknown := [x for x in labels if x not in known]:
                raise row.bad(f"label {unknown[0]!r} is not in {FSD50K_TRUTH}/vocabulary.csv")
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
    if (root / ESC50_TABLE).exists() and (root / "audio").is_dir():
        return "esc50"
    subdirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if subdirs:
        return "adell" if _default_label_depth(_audio_tree(root), root) == LABEL_DEPTH["adell"] else "deepasmr"
    if _audio_files(root):
        return "asmr85"
    raise UsageError(f"{root}: no known dataset layout ({', '.join(LAYOUTS)})")


def _refuse_regrouping(root: Path, layout: str, options: ReadOptions) -> None:
    """--group-by and sources.csv regroup sources, which a layout split by its publishers never uses."""
    split = PUBLISHED_SPLITS[layout]
    if options.group_by is not None:
        raise UsageError(f"--group-by: {root} is {layout}, split by {split}, not by sources; drop --group-by")
    if (root / SOURCES_CSV).exists():
        raise UsageError(f"{root / SOURCES_CSV}: {layout} is split by {split}, not by sources; move {SOURCES_CSV} "
                         f"out of {root}")


def read_layout_with_duplicates(root, layout: str | None = None, options: ReadOptions = ReadOptions()
                                ) -> tuple[list[Example], list[list[Path]]]:
    """Examples of any single-layout folder, byte-identical files merged into one source, and those copies.

    `root/sources.csv` and --group-by name the sources of every layout split by sources; ESC-50 and FSD50K,
    split as published, refuse them."""
    layout = layout or detect_layout(root)
    if layout in PUBLISHED_SPLITS:
        _refuse_regrouping(Path(root), layout, options)
    if layout == "fsd50k":
        examples = read_fsd50k(root)[0]
    elif layout == "esc50":
        examples = read_esc50(root, options.esc10)
    elif layout in ("asmr85", "commonvoice"):
        examples = regroup({"asmr85": read_asmr85, "commonvoice": read_commonvoice}[layout](root), root, options.group_by)
    else:
        examples = read_trigger_folders(root, options.label_depth, options.group_by)
    duplicates = find_duplicates(ex.path for ex in examples)
    return merge_duplicate_sources(examples, duplicates), duplicates


def read_layout(root, layout: str | None = None, options: ReadOptions = ReadOptions()) -> list[Example]:
    """Examples of any single-layout folder (byte-identical files merged into one source)."""
    return read_layout_with_duplicates(root, layout, options)[0]


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


def folds(examples: Iterable[Example]) -> list[int]:
    """The published folds the examples carry (ESC-50: 1-5), sorted; [] for a layout without folds."""
    return sorted({ex.fold for ex in examples if ex.fold is not None})


def fold_split(examples: Iterable[Example], test_fold: int, val_fold: int | None = None) -> dict[str, list[Example]]:
    """The published protocol's split for one fold: test = `test_fold`, validation = `val_fold` (None: no
    validation, as ESC-50's 5-fold cross-validation trains on the four other folds), train = the rest."""
    examples = list(examples)
    have = folds(examples)
    for flag, fold in (("--test-fold", test_fold), ("--val-fold", val_fold)):
        if fold is not None and fold not in have:
            raise UsageError(f"{flag} {fold}: the dataset's folds are {', '.join(map(str, have))}")
    if val_fold == test_fold:
        raise UsageError(f"--val-fold {val_fold}: is the test fold")
    splits: dict[str, list[Example]] = {"train": [], "val": [], "test": []}
    for ex in examples:
        splits["test" if ex.fold == test_fold else "val" if ex.fold == val_fold else "train"].append(ex)
    return splits


def make_split(examples: Iterable[Example], fractions=(0.7, 0.15, 0.15), seed: int = 0,
               test_fold: int | None = None, val_fold: int | None = None) -> dict[str, list[Example]]:
    """The split every trainer uses: the published folds when the examples carry them (test fold
    `test_fold`, default 1), else `split_by_source` with `fractions` and `seed`."""
    examples = list(examples)
    if folds(examples):
        return fold_split(examples, test_fold or DEFAULT_TEST_FOLD, val_fold)
    if test_fold is not None or val_fold is not None:
        raise UsageError("--test-fold/--val-fold: the dataset has no published folds (only ESC-50 has)")
    return split_by_source(examples, fractions, seed)


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
    for ex in console.bar(examples, desc="reading audio", unit="file", enabled=progress, leave=False):
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
