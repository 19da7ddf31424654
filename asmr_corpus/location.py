"""Where experiments find their data: a user's dataset folder, or the generated default corpus.

Without `--data`, the default corpus is generated under the repository's `data/<layout>` on
first use (into a temporary folder, renamed when complete, so an interrupted generation is
never mistaken for a finished one) and reused afterwards. Another size has a folder of its own,
`data/<size>/<layout>` (the quick runs' `data/quick/`), so it is never taken for the default corpus.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from audioprep.errors import UsageError
from audioprep.paths import data_root

COMPLETE_MARK = ".complete"


def corpus_root(size: str = "default") -> Path:
    """The folder holding the generated corpus of one size: the data root itself for the default."""
    return data_root() if size == "default" else data_root() / size


def layout_dir(layout: str, data=None, size: str = "default", seed: int = 0) -> Path:
    """The folder of one layout: inside `data` if given (its sub-folder named after the layout, or
    `data` itself), else the generated corpus of `size`, made on first use."""
    if data is not None:
        data = Path(data)
        if (data / layout).is_dir():
            return data / layout
        if data.is_dir():
            return data
        raise UsageError(f"{data}: no such dataset folder")
    root = corpus_root(size)
    target = root / layout
    if (target / COMPLETE_MARK).exists():
        return target
    from asmr_corpus import write_layout

    print(f"generating the {size} '{layout}' corpus under {target} (first use only) ...", flush=True)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{layout}-") as tmp:
        made = write_layout(layout, Path(tmp), seed=seed, size=size)
        (made / COMPLETE_MARK).write_text(f"seed={seed} size={size}\n")
        if target.exists():
            shutil.rmtree(target)
        made.rename(target)
    return target
