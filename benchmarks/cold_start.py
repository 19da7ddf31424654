"""Cold start: how long a person waits for one 60 s recording's labels, from typing the command to its exit.

The old paths load a Keras model (TensorFlow's import and graph build before the first window):
`asmr_classify predict --model RUN FILE` and `lean tag FILE --model RUN`. The new paths run on LiteRT
with no TensorFlow import: `asmr_classify predict FILE` (the default ASMR / speech detector on Google's
bundled YAMNet), `asmr_classify predict --model X.tflite FILE` (the same classifier exported) and
`lean tag FILE --model lean.tflite`. Every command prints what a person would see (labels and YAMNet's
AudioSet tags, the default), so each path also runs YAMNet's tag pass.

Generated in a temporary folder (or `--workdir`, where models already trained are reused): the recording
(`--seconds`, 44.1 kHz stereo tones under noise, long_audio.write_recording), the small generated
DeepASMR and FSD50K corpora (asmr_corpus, size "small"), a 1-epoch DeepASMR (f) classifier and its
export, and a 1-epoch LEAN `yamnet_frozen` run (Google's YAMNet frozen, a linear head on the small
FSD50K stand-in, <= 1 patch per clip) and its float export. The weights' quality does not matter here:
only loading and running them is timed.

Each command is a child process, timed from its start to its exit, `--repeats` times taken in turn
(round-robin, so a change of the machine's load falls on every path alike); the best wall time counts,
printed beside its CPU seconds and peak RSS (from wait4) and the bare interpreter's start
(`python -c pass`) as the floor. Goal: every new path <= 3 s on 2 cores, each printed met or missed with
the distance. Writes results/benchmarks/cold_start.json (under the git-ignored results/quick/ when
--seconds or --repeats make it another measurement). Last line: `ratio: <old total / new total>`,
the sums of the best wall times (two old commands against three new ones).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

from long_audio import spawn, write_recording
from record import announced_load, load_average, verdict, write_results

from asmr_corpus import write_layout
from audioprep import console

GOAL_SECONDS = 3.0


@dataclass(frozen=True)
class Command:
    """One way to label the recording: `argv` after `python`, with RUN / TFLITE / LEAN / LEAN_TFLITE / FILE
    placeholders (the command line the results file records)."""

    name: str
    old: bool
    argv: tuple[str, ...]

    def command(self) -> str:
        return " ".join(("python", *self.argv))


PATHS = (
    Command("predict, Keras classifier", True, ("-m", "asmr_classify", "predict", "--model", "RUN", "FILE")),
    Command("lean tag, Keras LEAN", True, ("-m", "lean", "tag", "FILE", "--model", "LEAN")),
    Command("predict, default YAMNet detector", False, ("-m", "asmr_classify", "predict", "FILE")),
    Command("predict, exported classifier", False, ("-m", "asmr_classify", "predict", "--model", "TFLITE", "FILE")),
    Command("lean tag, exported LEAN", False, ("-m", "lean", "tag", "FILE", "--model", "LEAN_TFLITE")),
)
FLOOR = Command("bare interpreter (floor)", False, ("-c", "pass"))


@dataclass
class Timing:
    """A path's runs: (wall, CPU, peak RSS MB) each."""

    path: Command
    runs: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def best(self) -> tuple[float, float, float]:
        return min(self.runs)

    def line(self) -> str:
        wall, cpu, rss = self.best
        walls = ", ".join(f"{w:.2f}" for w, _, _ in self.runs)
        return f"{self.path.name:34s} {wall:6.2f} s  CPU {cpu:5.2f} s  RSS {rss:5.0f} MB  (rounds: {walls} s)"

    def record(self) -> dict:
        wall, cpu, rss = self.best
        return {"command": self.path.command(), "best_wall_s": round(wall, 3),
                "cpu_s_of_best": round(cpu, 3), "rss_mb_of_best": round(rss, 1),
                "walls_s": [round(w, 3) for w, _, _ in self.runs]}


def step(what: str, argv: list[str], log: Path) -> None:
    """Run one preparation command to its end; its stderr's tail and exit on failure."""
    code, wall, _, _, text = spawn(argv, log)
    if code != 0:
        raise SystemExit(f"{what}: exit {code}; its stderr ends:\n{text[-2000:]}")
    print(f"  {what}: {wall:.0f} s", flush=True)


def prepare(work: Path, seconds: float) -> dict[str, str]:
    """The recording and the four models, each made unless `work` holds it already; the placeholders' values."""
    data = work / "data"
    files = {"FILE": work / "recording.wav", "RUN": work / "classifier", "TFLITE": work / "classifier.tflite",
             "LEAN": work / "lean", "LEAN_TFLITE": work / "lean.tflite"}
    write_recording(files["FILE"], seconds)
    for layout in ("deepasmr", "fsd50k"):
        if not (data / layout).is_dir():
            write_layout(layout, data, size="small", progress=False)
    steps = [
        ("RUN", "train the classifier (deepasmr, 1 epoch)",
         ["-m", "asmr_classify", "train", "--model", "deepasmr", "--epochs", "1", "--data", str(data / "deepasmr"),
          "--out", str(files["RUN"])]),
        ("TFLITE", "export it", ["-m", "asmr_classify", "export", "--model", str(files["RUN"]), "--out",
                                 str(files["TFLITE"])]),
        ("LEAN", "train LEAN (yamnet_frozen, 1 epoch)",
         ["-m", "lean", "train", "--variant", "yamnet_frozen", "--data", str(data / "fsd50k"), "--epochs", "1",
          "--max-patches-per-clip", "1", "--out", str(files["LEAN"])]),
        ("LEAN_TFLITE", "export it", ["-m", "lean", "export", "--model", str(files["LEAN"]), "--out",
                                      str(files["LEAN_TFLITE"])]),
    ]
    for key, what, argv in steps:
        done = files[key] / "best.keras" if files[key].suffix != ".tflite" else files[key]
        if not done.exists():
            step(what, argv, work / f"{key.lower()}.log")
    return {key: str(path) for key, path in files.items()}


def measure(paths: tuple[Command, ...], values: dict[str, str], repeats: int,
            work: Path) -> tuple[list[Timing], list[float]]:
    """Each path's runs, round by round, and the 1-minute load average as each round began."""
    timings, loads = [Timing(path) for path in paths], []
    for _ in range(repeats):
        loads.append(load_average()[0])
        for timing in timings:
            argv = [values.get(arg, arg) for arg in timing.path.argv]
            code, wall, rss, cpu, text = spawn(argv, work / "child.log")
            if code != 0:
                raise SystemExit(f"{timing.path.command()}: exit {code}; its stderr ends:\n{text[-2000:]}")
            timing.runs.append((wall, cpu, rss))
    return timings, loads


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the recording (default 60)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command, the best counts (default 3)")
    parser.add_argument("--workdir", type=Path, help="keep the recording and models here and reuse them "
                        "(default: a temporary folder, deleted)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.repeats < 1:
        parser.error(f"--seconds {args.seconds:g} must be > 0 and --repeats {args.repeats} >= 1")
    console.quiet_tensorflow_import()
    load_start = announced_load("start")
    with tempfile.TemporaryDirectory(prefix="cold_start_") as tmp:
        work = (args.workdir or Path(tmp)).resolve()  # the children run in the repository root
        work.mkdir(parents=True, exist_ok=True)
        print("preparing (generated recording, small generated corpora, 1-epoch models):", flush=True)
        values = prepare(work, args.seconds)
        print(f"recording: {args.seconds:g} s, 44.1 kHz stereo, generated tones under noise; weights: 1 epoch on "
              "the small generated corpora (DeepASMR (f); LEAN yamnet_frozen on Google's YAMNet), float exports",
              flush=True)
        (floor, *timings), loads = measure((FLOOR, *PATHS), values, args.repeats, work)
    print(f"wall from process start to exit, best of {args.repeats} rounds (1-min load average as each began: "
          f"{', '.join(map(str, loads))}):")
    print(floor.line())
    for old in (True, False):
        print("old path (Keras; TensorFlow imported):" if old else "new path (LiteRT; no TensorFlow):")
        for timing in timings:
            if timing.path.old == old:
                print("  " + timing.line())
    goals = {}
    for timing in timings:
        if not timing.path.old:
            wall = timing.best[0]
            met = wall <= GOAL_SECONDS
            distance = f"{abs(GOAL_SECONDS - wall):.2f} s {'under' if met else 'over'}"
            goals[timing.path.name] = {"goal": f"<= {GOAL_SECONDS:g} s", "value": round(wall, 3), "met": met,
                                       "distance": distance}
            print(f"goal: {timing.path.name} <= {GOAL_SECONDS:g} s on 2 cores ({wall:.2f} s, {distance}): "
                  f"{verdict(met)}")
    old_total = sum(t.best[0] for t in timings if t.path.old)
    new_total = sum(t.best[0] for t in timings if not t.path.old)
    by_name = {t.path.name: t.best[0] for t in timings}
    pairs = {"classifier: Keras run / exported": by_name["predict, Keras classifier"]
             / by_name["predict, exported classifier"],
             "classifier: Keras run / default detector": by_name["predict, Keras classifier"]
             / by_name["predict, default YAMNet detector"],
             "LEAN: Keras run / exported": by_name["lean tag, Keras LEAN"] / by_name["lean tag, exported LEAN"]}
    print("; ".join(f"{k} {v:.1f}x" for k, v in pairs.items()))
    print(f"old total {old_total:.2f} s (2 commands), new total {new_total:.2f} s (3 commands)")
    write_results("cold_start", {
        "data": f"a generated {args.seconds:g} s recording, 44.1 kHz stereo tones under noise",
        "weights": "1 epoch on the small generated corpora: DeepASMR (f) classifier and its float export; LEAN "
                   "yamnet_frozen (Google's bundled YAMNet frozen) and its float export; the default detector on "
                   "Google's bundled lite YAMNet",
        "repeats": args.repeats, "load_average": {"rounds": loads},
        "floor": floor.record(), "paths": {t.path.name: {"old": t.path.old, **t.record()} for t in timings}, "goals": goals,
        "pair_ratios": {k: round(v, 2) for k, v in pairs.items()},
        "old_total_s": round(old_total, 3), "new_total_s": round(new_total, 3),
        "ratio": round(old_total / new_total, 2)}, quick=args.seconds != 60.0 or args.repeats < 3, load_start=load_start)
    print(f"ratio: {old_total / new_total:.2f}")


if __name__ == "__main__":
    sys.exit(main())
