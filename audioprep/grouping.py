"""Which source recording each file of a labelled folder came from, so that splits keep a source on one side.

Three ways to name a source, strongest first: a `sources.csv` (`file,source`, paths relative to the
dataset folder), a sub-folder below the label (one recording cut into many files), or the file stem
(all of it, or the first capture group of `--group-by REGEX`); layouts whose readers name sources
themselves (ASMR-85's files, Common Voice's speakers) take the first and the last (`regroup`).
Byte-identical files, found by content hash, are then merged into one source whatever their labels.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from audioprep.errors import UsageError
from audioprep.io import file_sha256
from audioprep.tables import read_rows

SOURCES_CSV = "sources.csv"


def group_pattern(text: str) -> re.Pattern:
    """`--group-by REGEX` compiled; it must have a capture group (the source's name)."""
    try:
        pattern = re.compile(text)
    except re.error as err:
        raise UsageError(f"--group-by '{text}': not a regular expression ({err})") from None
    if pattern.groups < 1:
        raise UsageError(f"--group-by '{text}': needs a capture group naming the source, e.g. '^(\\w+)-'")
    return pattern


def stem_source(pattern: re.Pattern, path: Path) -> str:
    """The first capture group of `pattern` searched in the file stem; a stem it misses is an error, since
    guessing would put takes of one recording on both sides of a split."""
    match = pattern.search(path.stem)
    if match is None or not match.group(1):
        raise UsageError(f"--group-by '{pattern.pattern}': does not match {path} (its stem {path.stem!r})")
    return match.group(1)


def read_sources_csv(root: Path) -> dict[str, str]:
    """`root/sources.csv` as {file path relative to root: source}; {} when there is none."""
    table = root / SOURCES_CSV
    if not table.exists():
        return {}
    sources = {}
    for row in read_rows(table, required=("file", "source")):
        file = row["file"].strip()
        if not (root / file).is_file():
            raise row.bad(f"{file}: no such file under {root}")
        sources[Path(file).as_posix()] = row["source"].strip()
    return sources


def find_duplicates(paths: Iterable[Path]) -> list[list[Path]]:
    """Groups of byte-identical files (sorted); only files of equal size are hashed, so a folder without
    copies costs one stat per file. Unreadable files are left to the audio checks."""
    by_size: dict[int, list[Path]] = defaultdict(list)
    for path in sorted(set(paths)):
        try:
            by_size[path.stat().st_size].append(path)
        except OSError:
            continue
    groups: dict[str, list[Path]] = defaultdict(list)
    for same in (p for p in by_size.values() if len(p) > 1):
        for path in same:
            try:
                groups[file_sha256(path)].append(path)
            except OSError:
                continue
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def regroup(examples: list, root, group_by: str | None) -> list:
    """Examples of a layout whose reader names the sources, renamed by what the user gave: a file's row in
    `root/sources.csv`, else the first capture group of `group_by` in its stem."""
    root = Path(root)
    listed = read_sources_csv(root)
    pattern = group_pattern(group_by) if group_by else None
    if not listed and pattern is None:
        return examples

    def source(ex) -> str:
        rel = ex.path.relative_to(root).as_posix() if ex.path.is_relative_to(root) else None
        if rel in listed:
            return listed[rel]
        return stem_source(pattern, ex.path) if pattern is not None else ex.source

    return [replace(ex, source=source(ex)) for ex in examples]


def _collections(groups: list[list[Path]], source_of: dict) -> set[str]:
    """Sources holding copies of files of two or more other sources, in two or more groups of copies."""
    partners: dict[str, set[str]] = defaultdict(set)
    shared: dict[str, int] = defaultdict(int)
    for group in groups:
        sources = {source_of[p] for p in group}
        for source in sources:
            partners[source] |= sources - {source}
            shared[source] += 1
    return {s for s, others in partners.items() if len(others) >= 2 and shared[s] >= 2}


def merge_duplicate_sources(examples: list, duplicates: list[list[Path]]) -> list:
    """Examples whose files are copies of each other get one source (the first name, sorted), and so do
    all other examples of the sources so joined: a copy then sits on one side of any split.

    A source holding copies of files of two or more other sources (a folder of a tool's copies, such as
    `macro-output/` beside the recordings) is a collection, not one recording: each of its copies takes its
    original's source alone and its other files keep their own, so distinct recordings are not joined through it."""
    parent: dict[str, str] = {}

    def find(s: str) -> str:
        while parent.get(s, s) != s:
            s = parent[s]
        return s

    source_of = {ex.path: ex.source for ex in examples}
    groups = [g for g in ([p for p in group if p in source_of] for group in duplicates) if len(g) > 1]
    collections = _collections(groups, source_of)
    moved: dict[Path, str] = {}
    for group in groups:
        kept = [p for p in group if source_of[p] not in collections]
        roots = sorted({find(source_of[p]) for p in kept})
        for other in roots[1:]:
            parent[other] = roots[0]
        anchor = source_of[kept[0]] if kept else f"{source_of[group[0]]}/{group[0].name}"
        moved.update({p: anchor for p in group if source_of[p] in collections})
    if not parent and not moved:
        return examples
    resolved = {ex.path: find(moved.get(ex.path, ex.source)) for ex in examples}
    return [replace(ex, source=resolved[ex.path]) if resolved[ex.path] != ex.source else ex for ex in examples]
