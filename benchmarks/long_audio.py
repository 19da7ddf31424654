"""Hours-long recordings: peak memory and throughput of `asmr_classify predict` and `catalog`, streaming,
against the whole-file path they replaced.

Generates in a temporary folder, deterministically, and deletes afterwards: a 10-hour 44.1 kHz stereo
wav (`--hours`), a 1-hour 44.1 kHz stereo mp3 (`--mp3-hours`) and a 20-minute 44.1 kHz stereo wav
(`--whole-minutes`), and DeepASMR's (f) trigger classifier (`deepasmr`, 9 classes) built untrained with
seed 0: throughput and memory do not depend on its weights. Every measurement is a child process
(`python -m asmr_classify ... --timing`); its peak resident memory comes from `os.wait4`, its stage
times from the `time per stage` line it prints.

Prints per run: wall seconds and hours of audio per minute of wall time, end to end and after
start-up (without the interpreter's start and the model's loading, which imports TensorFlow), the
child's CPU seconds (on shared cores the wall time depends on the other jobs; CPU time much less),
peak RSS and each stage's share of the time (stages overlap in threads, so shares are of their sum).
The old path is kept here as `--whole-file`: decode the whole file (`load_audio`), cut every window,
featurise them all, one `predict` call. Goals on 2 cores: peak RSS <= 1 GB for the 10-hour file, and the mp3 catalogued at
>= 300x real time. Last line: `ratio: <streaming predict / whole-file predict throughput after start-up>`
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
SR = 44100
GOAL_RSS_MB, GOAL_REAL_TIME = 1024.0, 300.0
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


def spawn(args: list[str], log: Path) -> tuple[int, float, float, float, str]:
    """Run `python ARGS` to its end: (exit code, wall seconds, peak RSS in MB and CPU seconds from
    wait4, its stderr)."""
    start = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return proc.returncode, time.perf_counter() - start, usage.ru_maxrss / 1024, cpu, log.read_text()


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
    return f"{text}: {'met' if met else 'missed'}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=10.0, help="length of the long wav (default 10)")
    parser.add_argument("--mp3-hours", type=float, default=1.0, help="length of the mp3 (default 1)")
    parser.add_argument("--whole-minutes", type=float, default=20.0,
                        help="length of the file both paths predict (default 20)")
    parser.add_argument("--whole-file", nargs=2, metavar=("MODEL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.whole_file:
        whole_file(*args.whole_file)
        return
    for flag in ("hours", "mp3_hours", "whole_minutes"):
        if getattr(args, flag) <= 0:
            parser.error(f"--{flag.replace('_', '-')} {getattr(args, flag):g}: must be > 0")
    long_s, mp3_s, short_s = args.hours * 3600, args.mp3_hours * 3600, args.whole_minutes * 60
    with tempfile.TemporaryDirectory(prefix="long_audio_") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        model = build_model(tmp / "deepasmr.keras")
        wav = write_recording(tmp / "wav" / "long.wav", long_s)
        mp3 = write_recording(tmp / "mp3" / "long.mp3", mp3_s, seed=1)
        short = write_recording(tmp / "short" / "short.wav", short_s, seed=2)
        print(f"generated in {time.perf_counter() - start:.0f} s: {wav.name} {long_s / 3600:g} h "
              f"({wav.stat().st_size / 1e9:.2f} GB), {mp3.name} {mp3_s / 3600:g} h ({mp3.stat().st_size / 1e6:.0f} MB), "
              f"{short.name} {short_s / 60:g} min; all 44.1 kHz stereo", flush=True)
        print("model: deepasmr (f), untrained, seed 0 (9 classes; 1.03 s log-mel windows at 22.05 kHz)", flush=True)
        predict = ["-m", "asmr_classify", "predict", "--model", str(model), "--timing"]

        def catalog(path):
            return ["-m", "asmr_classify", "catalog", str(path.parent), "--model", str(model),
                    "--db", str(tmp / f"{path.stem}.sqlite"), "--timing"]

        _, wall, rss, cpu, _ = spawn([*predict, str(tmp / "none.wav")], tmp / "start.log")  # exits 1: no such file
        print(f"start-up only (import, model load, one missing file): peak RSS {rss:.0f} MB; {wall:.1f} s; "
              f"CPU {cpu:.1f} s", flush=True)
        runs = {}
        for key, name, cmd, seconds in [
            ("predict wav", f"predict {wav.name} ({long_s / 3600:g} h, overlap 0.5)", [*predict, str(wav)], long_s),
            ("catalog wav", f"catalog {wav.name} ({long_s / 3600:g} h, overlap 0)", catalog(wav), long_s),
            ("predict mp3", f"predict {mp3.name} ({mp3_s / 3600:g} h, overlap 0.5)", [*predict, str(mp3)], mp3_s),
            ("catalog mp3", f"catalog {mp3.name} ({mp3_s / 3600:g} h, overlap 0)", catalog(mp3), mp3_s),
            ("predict short", f"predict {short.name} ({short_s / 60:g} min, streaming)", [*predict, str(short)], short_s),
            ("whole short", f"whole-file path {short.name} ({short_s / 60:g} min, before streaming)",
             [__file__, "--whole-file", str(model), str(short)], short_s),
        ]:
            runs[key] = child(name, cmd, seconds, tmp / f"{key.replace(' ', '_')}.log")
            print(runs[key].line(), flush=True)

    rss = max(runs["predict wav"].rss_mb, runs["catalog wav"].rss_mb)
    print(goal(f"goal: peak RSS <= 1 GB on the {long_s / 3600:g} h wav ({rss:.0f} MB)", rss <= GOAL_RSS_MB))
    mp3_run = runs["catalog mp3"]
    fast = mp3_s / mp3_run.after_start
    print(goal(f"goal: mp3 catalogued at >= {GOAL_REAL_TIME:g}x real time ({fast:.0f}x after start-up, "
               f"{mp3_s / mp3_run.wall:.0f}x end to end)", fast >= GOAL_REAL_TIME))
    whole, streamed = runs["whole short"], runs["predict short"]
    print(f"whole-file vs streaming predict on {short_s / 60:g} min: peak RSS {whole.rss_mb:.0f} -> "
          f"{streamed.rss_mb:.0f} MB; {whole.after_start:.1f} -> {streamed.after_start:.1f} s after start-up")
    print(f"ratio: {whole.after_start / streamed.after_start:.2f}")


if __name__ == "__main__":
    main()
