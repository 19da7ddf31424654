"""Hours-long recordings: peak memory and throughput of `asmr_classify predict` and `catalog`, streaming,
against the whole-file path they replaced, and a 1-hour mp3 catalogued end to end with the default YAMNet
detector and with a paper classifier, as a Keras run and exported to .tflite.

Generates in a temporary folder, deterministically, and deletes afterwards: a 10-hour 44.1 kHz stereo
wav (`--hours`), a 1-hour 44.1 kHz stereo mp3 (`--mp3-hours`) and a 20-minute 44.1 kHz stereo wav
(`--whole-minutes`), and DeepASMR's (f) trigger classifier (`deepasmr`, 9 classes) built untrained with
seed 0, and its float .tflite export (`asmr_classify export`'s converter: front end in the graph, run by
LiteRT without TensorFlow): throughput and memory do not depend on its weights. The detector is the product's default
(`catalog` with no --model: Google's bundled lite YAMNet on LiteRT and the speech rule). Every
measurement is a child process (`python -m asmr_classify ... --timing`); its peak resident memory
comes from `os.wait4`, its stage times from the `time per stage` line it prints. `predict` and
`catalog` with the paper classifier run YAMNet's tag pass too, as they do by default; the streaming
predict that is set against the whole-file path runs `--no-tags`, so both do the same work.

Prints per run: wall seconds and hours of audio per minute of wall time, end to end and after
start-up (without the interpreter's start and the model's loading, which imports TensorFlow), the
child's CPU seconds (on shared cores the wall time depends on the other jobs; CPU time much less),
peak RSS and each stage's share of the time (stages overlap in threads, so shares are of their sum).
The old path is kept here as `--whole-file`: decode the whole file (`load_audio`), cut every window,
featurise them all, one `predict` call. Goals on 2 cores: peak RSS <= 1 GB for the 10-hour file, and
the mp3 catalogued end to end (process start to exit) at >= 300x real time with the paper classifier
(its exported file: the route for speed; the Keras run is printed beside it) and >= 150x with the YAMNet
detector; a missed speed goal prints its distance and a profile (the
catalogue's stages, and the mp3 decoded alone at its own rate and resampled to each model's rate).
Writes results/benchmarks/long_audio.json (`--quick`: short files, written under the git-ignored
results/quick/). Last line: `ratio: <streaming predict / whole-file predict throughput after start-up>`
on the 20-minute file.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import numpy as np
import soundfile as sf
from record import ROOT, load_average, verdict, write_results

from audioprep import console

SR = 44100
GOAL_RSS_MB = 1024.0
GOAL_REAL_TIME = {"paper classifier": 300.0, "YAMNet detector": 150.0}  # the 1 h mp3 catalogued end to end
FULL = {"hours": 10.0, "mp3_hours": 1.0, "whole_minutes": 20.0}
QUICK = {"hours": 0.1, "mp3_hours": 0.1, "whole_minutes": 2.0}
STAGE_LINE = re.compile(r"time per stage \((?P<wall>[\d.]+) s wall\): (?P<stages>.*)")
STAGE = re.compile(r"(?P<name>\w+) (?P<seconds>[\d.]+) s")


def write_recording(path: Path, seconds: float, seed: int = 0) -> Path:
    """Stereo 44.1 kHz, written a minute at a time: a seeded 61 s stretch of tones under noise, repeated
    (decoding, features and the model cost the same whatever the sound)."""
    rng = np.random.default_rng(seed)
    t = np.arange(61 * SR) / SR
    tones = np.sin(2 * np.pi * np.outer([220.0, 330.0], t) * (1 + 0.1 * np.sin(2 * np.pi * 0.05 * t)))
    chunk = (0.3 * tones + 0.05 * rng.standard_normal((2, len(t)))).T.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    left = int(seconds * SR)
    with sf.SoundFile(path, "w", SR, 2, **({"format": "MP3"} if path.suffix == ".mp3" else {"subtype": "PCM_16"})) as fh:
        while left > 0:
            fh.write(chunk[:left])
            left -= len(chunk)
    return path


def build_model(path: Path) -> Path:
    """The (f) classifier with the sweep's hyper-parameters, untrained, seed 0."""
    import keras

    from asmr_classify import models

    keras.utils.set_random_seed(0)
    model = models.build("deepasmr")
    model.optimizer.build(model.trainable_variables)  # saved with its optimizer state: loads without a warning
    model.save(path)
    return path


def export_model(model: Path, out: Path) -> Path:
    """`model` as the float .tflite `asmr_classify export` writes (front end in the graph)."""
    from asmr_classify.export import export_classifier
    from asmr_classify.predict import load_classifier

    with console.native_lines_caught():
        export_classifier(load_classifier(str(model)), out)
    return out


@dataclass
class Run:
    name: str
    audio_seconds: float
    wall: float  # the child's whole life
    rss_mb: float
    cpu: float  # user + system seconds
    after_start: float  # wall seconds after the model (and TensorFlow with it) was loaded, as the child measured
    stages: dict[str, float]

    def line(self) -> str:
        def speed(wall):
            return f"{self.audio_seconds / 3600 / (wall / 60):.2f} h/min ({self.audio_seconds / wall:.0f}x real time)"

        total = sum(self.stages.values()) or 1.0
        shares = ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f} %)" for k, v in self.stages.items())
        return (f"{self.name}: peak RSS {self.rss_mb:.0f} MB; {self.wall:.1f} s end to end, {speed(self.wall)}; "
                f"{self.after_start:.1f} s after start-up, {speed(self.after_start)}; CPU {self.cpu:.1f} s\n"
                f"    stages: {shares}")

    def record(self) -> dict:
        return {**asdict(self), "x_real_time": round(self.audio_seconds / self.wall, 1),
                "x_real_time_after_start": round(self.audio_seconds / self.after_start, 1)}


# Starts `python ARGS` and waits for it: a child's peak RSS (ru_maxrss) counts the memory of the process it was
# forked from, so the measured process is forked from this small launcher (`python -S`, ~14 MB), not from the
# benchmark (hundreds of MB once TensorFlow is imported); it writes exit code, wall and CPU seconds, peak RSS in KB.
LAUNCHER = """import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.executable, [sys.executable, *sys.argv[2:]], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {time.perf_counter() - start} {usage.ru_maxrss} "
              f"{usage.ru_utime + usage.ru_stime}")
"""


def spawn(args: list[str], log: Path) -> tuple[int, float, float, float, str]:
    """Run `python ARGS` to its end: (exit code, wall seconds from its start to its exit, peak RSS in MB and
    CPU seconds from wait4, its stderr)."""
    measured = log.with_suffix(".wait4")
    with open(log, "w") as err:
        subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(measured), *args], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    code, wall, rss_kb, cpu = measured.read_text().split()
    return int(code), float(wall), int(rss_kb) / 1024, float(cpu), log.read_text()


def child(name: str, args: list[str], audio_seconds: float, log: Path) -> Run:
    code, wall, rss, cpu, text = spawn(args, log)
    match = STAGE_LINE.search(text)
    if code != 0 or match is None:
        raise SystemExit(f"{name}: exit {code}; its stderr ends:\n{text[-2000:]}")
    stages = {m["name"]: float(m["seconds"]) for m in STAGE.finditer(match["stages"])}
    return Run(name, audio_seconds, wall, rss, cpu, float(match["wall"]) - stages.get("load", 0.0), stages)


def whole_file(model_path: str, path: str) -> None:
    """The old predict path, timed like the new one: the whole file decoded, every window cut and
    featurised at once, one `predict` call."""
    from asmr_classify.predict import StageClock, features, load_classifier, predict_proba
    from audioprep.io import load_audio
    from audioprep.segment import sliding_windows

    clock = StageClock()
    with clock.stage("load"):
        clf = load_classifier(model_path)
    with clock.stage("decode"):
        audio, _ = load_audio(path, sr=clf.sample_rate)
        windows = sliding_windows(audio, clf.window_samples, 0.5)
    with clock.stage("features"):
        x = features(clf, windows)
    with clock.stage("model"):
        probs = predict_proba(clf, x)
    print(f"{path}: {len(probs)} windows", file=sys.stderr)
    print(clock.report(), file=sys.stderr)


def goal(text: str, met: bool) -> str:
    return f"{text}: {verdict(met)}"


def decode_seconds(path: Path, rates: dict[str, int | None]) -> dict[str, float]:
    """Wall seconds to stream `path` once, mono, at each rate (None: its own), in this process and one thread:
    decoding alone, and what resampling to a model's rate adds."""
    from audioprep.stream import AudioStream

    seconds = {}
    for name, rate in rates.items():
        start = time.perf_counter()
        for _ in AudioStream(path, sr=rate):
            pass
        seconds[name] = time.perf_counter() - start
    return seconds


# what each `--timing` stage is, in the profile of a catalogue run
STAGE_WORDS = {"load": "model load", "hash": "SHA-256", "decode": "decode + resample", "features": "features",
               "tags": "YAMNet tag pass (its thread scoring the shared decode's 16 kHz blocks)", "database": "SQLite"}


def profile(run: Run, model_words: str, decoding: dict[str, float]) -> str:
    """Where a catalogue run's time went: start-up, its stages' shares, and decoding alone beside them."""
    total = sum(run.stages.values()) or 1.0
    words = {**STAGE_WORDS, "model": model_words}
    stages = "; ".join(f"{words.get(k, k)} {v:.1f} s ({100 * v / total:.0f} %)" for k, v in run.stages.items())
    own = decoding["own rate"]
    decoded = ", ".join(f"{name} {s:.1f} s" + ("" if name == "own rate" else f" (resampling {s - own:+.1f} s)")
                        for name, s in decoding.items())
    return (f"    profile: {run.wall:.1f} s end to end, of which start-up (interpreter, imports, model) "
            f"{run.wall - run.after_start:.1f} s; stages (threads overlap, shares of their sum): {stages}\n"
            f"    decoding the file alone, mono, one thread: {decoded}")


def speed_goal(run: Run, target: float, decoding: dict[str, float] | None, model_words: str) -> tuple[str, dict]:
    """The goal line for catalogue `run` at `target` x real time end to end, with its distance, and the
    profile when it is missed; and the goal's record."""
    speed = run.audio_seconds / run.wall
    met = speed >= target
    distance = (f"{speed / target:.2f}x the goal" if met else
                f"{target / speed:.2f}x too slow: {run.wall:.1f} s against the {run.audio_seconds / target:.1f} s allowed")
    text = goal(f"goal: {run.name} at >= {target:g}x real time end to end ({speed:.0f}x; "
                f"{run.audio_seconds / run.after_start:.0f}x after start-up; {distance})", met)
    if not met and decoding is not None:
        text += "\n" + profile(run, model_words, decoding)
    return text, {"goal": f">= {target:g}x real time end to end", "value": round(speed, 1), "met": met,
                  "distance": distance}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, help=f"length of the long wav (default {FULL['hours']:g})")
    parser.add_argument("--mp3-hours", type=float, help=f"length of the mp3 (default {FULL['mp3_hours']:g})")
    parser.add_argument("--whole-minutes", type=float,
                        help=f"length of the file both paths predict (default {FULL['whole_minutes']:g})")
    parser.add_argument("--quick", action="store_true",
                        help="short files for a fast check (defaults {hours:g} h, {mp3_hours:g} h, {whole_minutes:g} "
                             "min); results under results/quick/, not the documented figures".format(**QUICK))
    parser.add_argument("--whole-file", nargs=2, metavar=("MODEL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.whole_file:
        whole_file(*args.whole_file)
        return
    for flag, default in (QUICK if args.quick else FULL).items():
        if getattr(args, flag) is None:
            setattr(args, flag, default)
        if getattr(args, flag) <= 0:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag):g}: must be > 0")
    long_s, mp3_s, short_s = args.hours * 3600, args.mp3_hours * 3600, args.whole_minutes * 60
    console.quiet_tensorflow_import()  # build_model imports it
    load_start = load_average()
    print(f"machine: {os.cpu_count()} cores, load average {', '.join(map(str, load_start))} at start "
          "(1, 5, 15 min; other jobs included)", flush=True)
    with tempfile.TemporaryDirectory(prefix="long_audio_") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        model = build_model(tmp / "deepasmr.keras")
        exported = export_model(model, tmp / "deepasmr.tflite")
        wav = write_recording(tmp / "wav" / "long.wav", long_s)
        mp3 = write_recording(tmp / "mp3" / "long.mp3", mp3_s, seed=1)
        short = write_recording(tmp / "short" / "short.wav", short_s, seed=2)
        print(f"generated in {time.perf_counter() - start:.0f} s: {wav.name} {long_s / 3600:g} h "
              f"({wav.stat().st_size / 1e9:.2f} GB), {mp3.name} {mp3_s / 3600:g} h ({mp3.stat().st_size / 1e6:.0f} MB), "
              f"{short.name} {short_s / 60:g} min; all 44.1 kHz stereo", flush=True)
        print("models: deepasmr (f), untrained, seed 0 (9 classes; 1.03 s log-mel windows at 22.05 kHz), and its "
              "float .tflite export; "
              "the YAMNet detector: Google's bundled lite YAMNet (AudioSet weights) and the speech rule "
              "(0.975 s windows at 16 kHz); YAMNet's tags beside the classifier: the same weights batched "
              "(asmr_audioset.tag_net)", flush=True)
        predict = ["-m", "asmr_classify", "predict", "--model", str(model), "--timing"]

        def catalog(path, model_args, db):
            return ["-m", "asmr_classify", "catalog", str(path.parent), *model_args,
                    "--db", str(tmp / f"{db}.sqlite"), "--timing"]

        classifier, detector = ["--model", str(model)], []
        _, *start_up, _ = spawn([*predict, str(tmp / "none.wav")], tmp / "start.log")  # exits 1: no such file
        print("start-up only (import, model load, one missing file): peak RSS {1:.0f} MB; {0:.1f} s; "
              "CPU {2:.1f} s".format(*start_up), flush=True)
        runs = {}
        hours, mp3_hours = f"{long_s / 3600:g} h", f"{mp3_s / 3600:g} h"
        for key, name, cmd, seconds in [
            ("predict wav", f"predict {wav.name} ({hours}, overlap 0.5, tags)", [*predict, str(wav)], long_s),
            ("catalog wav", f"catalog {wav.name} ({hours}, paper classifier)", catalog(wav, classifier, "wav"), long_s),
            ("catalog wav detector", f"catalog {wav.name} ({hours}, YAMNet detector)",
             catalog(wav, detector, "wav_detector"), long_s),
            ("predict mp3", f"predict {mp3.name} ({mp3_hours}, overlap 0.5, tags)", [*predict, str(mp3)], mp3_s),
            ("catalog mp3", f"catalog {mp3.name} ({mp3_hours}, paper classifier)", catalog(mp3, classifier, "mp3"),
             mp3_s),
            ("catalog mp3 exported", f"catalog {mp3.name} ({mp3_hours}, paper classifier exported)",
             catalog(mp3, ["--model", str(exported)], "mp3_exported"), mp3_s),
            ("catalog mp3 detector", f"catalog {mp3.name} ({mp3_hours}, YAMNet detector)",
             catalog(mp3, detector, "mp3_detector"), mp3_s),
            ("predict short", f"predict {short.name} ({short_s / 60:g} min, streaming, no tags)",
             [*predict, "--no-tags", str(short)], short_s),
            ("whole short", f"whole-file path {short.name} ({short_s / 60:g} min, before streaming)",
             [__file__, "--whole-file", str(model), str(short)], short_s),
        ]:
            runs[key] = child(name, cmd, seconds, tmp / f"{key.replace(' ', '_')}.log")
            print(runs[key].line(), flush=True)

        rss = max(runs[k].rss_mb for k in ("predict wav", "catalog wav", "catalog wav detector"))
        goals = {"rss": {"goal": f"peak RSS <= {GOAL_RSS_MB:g} MB on the {hours} wav", "value": round(rss),
                         "met": rss <= GOAL_RSS_MB, "distance": f"{abs(GOAL_RSS_MB - rss):.0f} MB "
                                                                 f"{'under' if rss <= GOAL_RSS_MB else 'over'}"}}
        print(goal(f"goal: peak RSS <= 1 GB on the {hours} wav ({rss:.0f} MB, {goals['rss']['distance']})",
                   goals["rss"]["met"]))
        speeds = [("paper classifier", runs["catalog mp3 exported"], "model (the exported paper classifier)"),
                  ("YAMNet detector", runs["catalog mp3 detector"], "model (YAMNet and the speech rule)")]
        missed = any(run.audio_seconds / run.wall < GOAL_REAL_TIME[which] for which, run, _ in speeds)
        decoding = decode_seconds(mp3, {"own rate": None, "to 16 kHz": 16000, "to 22.05 kHz": 22050}) if missed else None
        for which, run, words in speeds:
            text, goals[which] = speed_goal(run, GOAL_REAL_TIME[which], decoding, words)
            print(text)
    whole, streamed = runs["whole short"], runs["predict short"]
    print(f"whole-file vs streaming predict on {short_s / 60:g} min: peak RSS {whole.rss_mb:.0f} -> "
          f"{streamed.rss_mb:.0f} MB; {whole.after_start:.1f} -> {streamed.after_start:.1f} s after start-up")
    ratio = whole.after_start / streamed.after_start
    write_results("long_audio", {
        "data": f"generated tones under noise, 44.1 kHz stereo: {hours} wav, {mp3_hours} mp3, {short_s / 60:g} min wav",
        "weights": "deepasmr (f) untrained, seed 0, and its float .tflite export; YAMNet detector: Google's bundled "
                   "lite YAMNet (AudioSet); tags beside the classifier: the same weights batched "
                   "(asmr_audioset/assets/yamnet_tags.tflite)",
        "start_up": dict(zip(("wall", "rss_mb", "cpu"), (round(x, 2) for x in start_up), strict=True)),
        "runs": {key: run.record() for key, run in runs.items()},
        "decoding_alone_s": decoding, "goals": goals, "ratio": round(ratio, 2)}, args.quick, load_start)
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
