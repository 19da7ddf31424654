"""Scripts start TensorFlow quietly: `python experiments/tableN.py` and `python benchmarks/X.py` import Keras
before any command plumbing, so each imports audioprep.quiet first (ruff's isort section keeps it first)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*ROOT.glob("experiments/table*.py"), ROOT / "experiments" / "esc50.py", *ROOT.glob("benchmarks/*.py")])
START_UP = ("I0000", "E0000", "W0000", "cuInit", "cpu_feature_guard")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names.append(node.module)
    return names


def test_every_script_arms_the_quiet_import_before_anything_else():
    assert len(SCRIPTS) >= 15
    for path in SCRIPTS:
        imports = [n for n in _imports(path) if n.split(".")[0] not in sys.stdlib_module_names]
        assert imports[:1] == ["audioprep.quiet"], f"{path.relative_to(ROOT)}: first non-stdlib import is {imports[:1]}"


def test_a_table_script_prints_no_tensorflow_start_up_lines():
    done = subprocess.run([sys.executable, str(ROOT / "experiments" / "table1.py"), "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "--quick" in done.stdout
    assert not [line for line in done.stderr.splitlines() if any(s in line for s in START_UP)], done.stderr
