"""The packages form layers: the audio core needs no TensorFlow, and no package imports one above it.

Every import is counted, lazy ones inside functions too, so a layer cannot be crossed by deferring an import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> layer; a package may import its own layer's packages (without a cycle) and those below.
LAYERS = {
    "audioprep": 0,  # the audio core: io, streams, features, datasets, files
    "asmr_corpus": 1,  # the generated stand-in corpus
    "asmr_audioset": 1,  # Google's YAMNet on LiteRT: AudioSet scores, tags, abstaining
    "asmr_training": 1,  # run folders, distribution, batches, loss scaling
    "asmr_tflite": 1,  # TFLite conversion, metadata, the interpreter
    "lean": 2,
    "asmr_classify": 2,
    "asmr_generate": 2,
    "asmr_platform": 3,  # the web app over the models
    "experiments": 4,
    "benchmarks": 4,
}
TENSORFLOW_FREE = ("audioprep", "asmr_corpus", "asmr_audioset")


def _imports(package: str) -> dict[str, set[str]]:
    """Which project packages each of `package`'s files imports (any depth, module level or lazy)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = {name for name in names if name in LAYERS and name != package}
    return found


def package_graph() -> dict[str, set[str]]:
    return {package: set().union(*_imports(package).values()) for package in LAYERS}


def test_no_package_imports_a_layer_above_it():
    upward = [
        f"{file} imports {target}"
        for package in LAYERS
        for file, targets in _imports(package).items()
        for target in targets
        if LAYERS[target] > LAYERS[package]
    ]
    assert upward == []


def test_the_package_graph_has_no_cycle():
    graph = package_graph()
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path, node, target]
            if target not in state and (cycle := visit(target, [*path, node])):
                return cycle
        state[node] = "done"
        return None

    for package in LAYERS:
        if package not in state:
            assert visit(package, []) is None


def _modules(package: str) -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__main__.py"
    )


@pytest.mark.parametrize("package", TENSORFLOW_FREE)
def test_every_module_of_the_core_imports_without_tensorflow(package):
    """Every module imported in one fresh interpreter, checked after each import: imports only add to
    `sys.modules`, so the first module after which TensorFlow or Keras is there is the one that brought it."""
    modules = _modules(package)
    assert package in modules and len(modules) > 1  # the walk found the package and its modules
    script = (
        "import importlib, sys\n"
        "for module in sys.argv[1:]:\n"
        "    try:\n"
        "        importlib.import_module(module)\n"
        "    except Exception as error:\n"
        "        print(f'{module}: failed to import ({error})'); break\n"
        "    heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "    if heavy:\n"
        "        print(f'{module}: {heavy}'); break\n"
        "else:\n"
        "    print(len(sys.argv) - 1, 'modules')\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *modules], capture_output=True, text=True, timeout=600)
    assert done.stdout.strip() == f"{len(modules)} modules", done.stdout + done.stderr
