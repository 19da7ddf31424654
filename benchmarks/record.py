"""What every benchmark records beside its figures: the machine, the load, and results/benchmarks/NAME.json.

One module for all of benchmarks/, so every results file has the fields `python -m experiments.render_docs`
renders the README's rows from. The scripts run as scripts, so they import it as a plain module
(`from record import write_results`): Python puts the script's folder first on the path.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from argparse import ArgumentParser, Namespace
from datetime import UTC, datetime
from pathlib import Path

import audioprep.quiet  # noqa: F401  (every benchmarks/ file arms it first; the scripts import Keras)

from audioprep.files import write_json

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ("tensorflow", "keras", "ai-edge-litert", "numpy", "soundfile", "soxr")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: the machine is shared, so every figure is read beside them."""
    return [round(x, 2) for x in os.getloadavg()]


def announced_load(when: str) -> list[float]:
    """load_average(), printed as the line `load average at WHEN: ...` that every run shows beside its figures."""
    load = load_average()
    print(f"load average at {when}: {', '.join(map(str, load))} (1, 5, 15 min; other jobs included)", flush=True)
    return load


def machine() -> dict:
    """What ran the benchmark, with no path of this machine: CPU, cores, memory, load, versions."""
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    names = [line.split(":", 1)[1].strip() for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
             if line.startswith("model name")]
    memory = [int(line.split()[1]) for line in (meminfo.read_text().splitlines() if meminfo.exists() else [])
              if line.startswith("MemTotal:")]
    return {"cpu": names[0] if names else platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "memory_gib": round(memory[0] / 2**20, 1) if memory else None, "system": platform.platform(),
            "python": platform.python_version(), **{name: importlib.metadata.version(name) for name in VERSIONS}}


def write_results(name: str, payload: dict, quick: bool, load_start: list[float]) -> Path:
    """results/benchmarks/NAME.json, or under the git-ignored results/quick/ for a --quick run. The load average
    at the end is announced and recorded beside `load_start` (and any the payload's "load_average" adds)."""
    folder = ROOT / "results" / ("quick/benchmarks" if quick else "benchmarks")
    load = {"start": load_start, **payload.get("load_average", {}), "end": announced_load("the end")}
    path = write_json(folder / f"{name}.json", {
        "benchmark": name, "quick": quick, "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), **payload, "load_average": load})
    print(f"results: {path.relative_to(ROOT)}")
    return path


def not_the_default(parser: ArgumentParser, args: Namespace) -> bool:
    """Whether `args` ask for another measurement than the documented one (any flag off its default): such a
    run is written under results/quick/, so it never replaces the figures the README renders."""
    return vars(args) != vars(parser.parse_args([]))


def verdict(met: bool) -> str:
    """The word every goal line ends with."""
    return "met" if met else "missed"


def at_least(target: float, value: float, unit: str = "x") -> dict:
    """The record of a `>= target` goal: met or not, and the distance as a factor of the target."""
    met = value >= target
    return {"goal": f">= {target:,g}{unit}", "value": round(value, 2), "met": met,
            "distance": f"{value / target:.2f}x the goal" if met else f"{target / value:.2f}x short of it"}
