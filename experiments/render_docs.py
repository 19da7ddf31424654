"""Render the results in README.md and docs/*.md from results/, so no number is copied by hand.

    python -m experiments.render_docs           # rewrite the blocks
    python -m experiments.render_docs --check   # exit 1 naming each file and block that disagrees

A block is the text between `<!-- results:NAME -->` and `<!-- /results:NAME -->`; only that text is
rewritten, the prose around it stays hand-written. `results:glance` is the one-row-per-table summary
(every figure read from results/tableN/results.json); `results:tableN` is results/tableN/table.md
itself, its headings nested under the page's and its relative links pointing from the page
(`results:esc50` likewise includes results/esc50/table.md).
`results:benchmarks` is the one-row-per-benchmark summary of every results/benchmarks/NAME.json that a
script in `BENCHMARKS` writes (its ratio, run date and load, and each goal met or missed with its distance);
`results:bench-NAME` is one benchmark's runs, from the same file (long_audio: each run's speed, memory
and stages). `results:table6-seeds` is LEAN's Table III over seeds: the committed run (results/table6) and
each `table6.py --seed N --out results/table6_seeds/seedN` run beside it, per model present in all of them.

Only full runs are rendered: a results.json whose "quick" is not false (a --quick run written there with
an explicit --out, or one that does not say) is refused, naming the file. Quick runs write to the
git-ignored results/quick/, which is never read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPEN = re.compile(r"^<!-- results:([\w-]+) -->$", re.M)  # a marker is a line of its own
CLOSE = re.compile(r"^<!-- /results:[\w-]+ -->$", re.M)
LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")
HEADING = re.compile(r"^(#{1,6}) ", re.M)
VERSIONS = {"python": "Python", "tensorflow": "TensorFlow", "keras": "Keras"}  # results.json "environment"
TABLE_HEADING_LEVEL = 3  # a page's sections are `##`, so an included table's top heading becomes `###`


class DocsError(Exception):
    """A problem worth one line: names the file (and block) and what to do."""


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def _run(detail: str) -> str:
    return "full" + (f", {detail}" if detail else "")


def _table1(d: dict) -> tuple[str, str, str]:
    ours, paper = d["params"], d["paper"]
    layers = "matched" if (ours["total"], ours["non_trainable"]) == (paper["total"], paper["non_trainable"]) else "differs"
    return (_run(f"{d['epochs']} epochs"),
            f"{_pct(d['test']['accuracy'])} test accuracy; Figure 5 {layers} "
            f"({ours['total']:,} params, {ours['non_trainable']:,} non-trainable)",
            paper["accuracy"])


def _table2(d: dict) -> tuple[str, str, str]:
    models = list(d["paper"])  # the paper's (a)-(f), in its order
    means = [sum(acc := d["results"][m]["accuracy"]) / len(acc) for m in models]
    letters = "abcdef"
    epochs = f"{d['epochs']} epochs" if d["epochs"] else "each model's default epochs"
    return (_run(f"{epochs}, {len(d['seeds'])} seeds"),
            ", ".join(f"({letters[i]}) {100 * m:.1f}" for i, m in enumerate(means)) + " % (seed mean)",
            ", ".join(f"{d['paper'][m]:.1f}" for m in models) + " %")


def _between(scores: dict) -> list[str]:
    """Timbral attributes on which the VAE blend lies between (or on) its two inputs' scores."""
    a, b, blend = scores["Glass (input)"], scores["Wood (input)"], scores["VAE blend"]
    return [k for k in blend if min(a[k], b[k]) <= blend[k] <= max(a[k], b[k])]


def _table3(d: dict) -> tuple[str, str, str]:
    def summary(scores: dict) -> str:
        inside = _between(scores)
        return f"VAE blend between its inputs on {len(inside)} of 7 attributes ({', '.join(inside)})"

    wavenet_ae = d["wavenet_autoencoder"].split(":")[0]
    return _run(""), f"{summary(d['scores'])}; WaveNet-autoencoder row {wavenet_ae}", summary(d["paper"])


def _table4(d: dict) -> tuple[str, str, str]:
    r, scale = d["results"], d["scale"]
    epochs = sorted({scale["vae_epochs"], scale["gan_epochs"]})
    ours = ", ".join(f"{g} {_pct(r[g]['variation_accuracy'], 0)} / {_pct(r[g]['blend_accuracy'], 0)}"
                     for g in ("VAE", "GAN"))
    paper = ", ".join(f"{g} {v} / {b} %" for g, (v, b) in d["paper"].items())
    return (_run(f"{scale['slices']} slices per recording, {'-'.join(map(str, epochs))} epochs"),
            f"variation / blend judged as intended: {ours} (judge ceiling {_pct(d['real_accuracy'], 0)})",
            paper)


def _table5(d: dict) -> tuple[str, str, str]:
    parts = []
    for family, name in (("wavenet", "WaveNet"), ("wavernn", "WaveRNN")):
        per, cond = d[family]["per_trigger"], d[family]["conditioned"]
        lower = sum(cond[t]["nll_bits"] < per[t]["nll_bits"] for t in per)
        parts.append(f"{name}: conditioned model's held-out NLL lower on {lower} of {len(per)} triggers, "
                     f"paper's finding {d[family]['verdict'][0]}")
    budget = d["budget"]
    return (_run(f"{budget['epochs']} x {budget['steps_per_epoch']} steps per per-trigger model"),
            "; ".join(parts), "per-trigger models sound better (listening only, no numbers)")


def _table6(d: dict) -> tuple[str, str, str]:
    def summary(maps: dict[str, float]) -> str:
        best = max(maps, key=maps.get)
        return (f"mAP {min(maps.values()):.4f}-{max(maps.values()):.4f}, best "
                f"{d['paper']['table3'][best]['label']}")

    ours = {k: v["mAP"] for k, v in d["results"].items()}
    paper = {k: v["mAP"] for k, v in d["paper"]["table3"].items()}
    return (_run(f"{d['budget']['epochs']} epochs per model"),
            f"{summary(ours)}; LEAN {ours['lean']:.4f}", summary(paper))


def _table7(d: dict) -> tuple[str, str, str]:
    r, p = d["results"], d["paper"]
    int8 = r["int8"]
    return (_run(""),
            f"int8 {int8['bytes'] / 1e6:.2f} MB, mAP {int8['mAP']:.4f} (Keras float {r['keras']['mAP']:.4f}), "
            f"{int8['latency_ms']['1']:.1f} ms per 1 s window on one thread",
            f"{p['size_mb']} MB, mAP {p['mAP']}, {p['latency_ms']} ms on a {p['device']}")


@dataclass(frozen=True)
class Table:
    """One reproduced table: its script, the package page that shows it, and its summary row."""

    number: int
    page: str
    reproduces: str
    summarize: Callable[[dict], tuple[str, str, str]]  # results.json -> (run, ours, paper)


TABLES = (
    Table(1, "asmr_classify", "Lin 2024, Conv1D ASMR vs speech", _table1),
    Table(2, "asmr_classify", "DeepASMR Table 1, six trigger classifiers (a)-(f)", _table2),
    Table(3, "asmr_generate", "DeepASMR Table 2, timbral attributes of blends", _table3),
    Table(4, "asmr_generate", "DeepASMR Table 3, judged variations and blends", _table4),
    Table(5, "asmr_generate", "Adell 2020, WaveNet / WaveRNN per trigger vs conditioned", _table5),
    Table(6, "lean", "LEAN Table III, ablation", _table6),
    Table(7, "lean", "LEAN Table IV, on device (TFLite)", _table7),
)
# results:NAME blocks that include results/NAME/table.md whole: each table, and the ESC-50 protocol
INCLUDED = (*(f"table{t.number}" for t in TABLES), "esc50")


@dataclass(frozen=True)
class Benchmark:
    """A benchmark that writes results/benchmarks/NAME.json: benchmarks/NAME.py and what it times."""

    name: str
    what: str


BENCHMARKS = (
    Benchmark("cold_start", "one 60 s file labelled, process start to exit: Keras `predict` / `lean tag` vs the "
                            "YAMNet detector, an exported classifier and an exported LEAN on LiteRT"),
    Benchmark("long_audio", "catalogue of a 1 h mp3 with the YAMNet detector and a paper classifier (untrained (f); "
                            "Keras, and its .tflite export, on which the goal is judged), "
                            "`predict` and `catalog` on a 10 h wav, streaming vs whole-file `predict`"),
    Benchmark("embedding_cache", "`asmr_classify train --model yamnet` on 2,000 generated clips: first pass "
                                 "(YAMNet embeddings from audio) vs a second process on the content-keyed cache"),
    Benchmark("features", "the log-mel as LEAN computes it (in-graph front end, batched) and as the tag pass does "
                          "(numpy), and the clip-mean MFCC as Lin's corpus does, vs the per-clip librosa loop"),
    Benchmark("inversion", "batched Griffin-Lim (`asmr_generate.mel.invert`) vs librosa `mel_to_audio` per clip"),
    Benchmark("wavegen", "naive vs queued WaveNet sampling, 1 s of audio (naive path compiled once, outside the "
                         "timing)"),
    Benchmark("lean_device", "Keras `predict` vs TFLite int8 per 1 s window; int8 size and mAP drop (table6's "
                             "full-budget LEAN on Google's YAMNet)"),
    Benchmark("loader", "LEAN's 1 s patches per second from TFRecord shards vs the memory-mapped store's patch "
                        "index, beside what the CPU training step consumes (10 h of generated noise)"),
)


def _one_minute_loads(loads: dict) -> list[float]:
    """The 1-minute load averages a benchmark recorded: the first of each (1, 5, 15 min) triple at its start
    and end, and every figure of a list taken per round."""
    out = []
    for key, value in loads.items():
        out += [value[0]] if key in ("start", "end") else list(value)
    return out


def _bench_run(d: dict) -> str:
    loads = _one_minute_loads(d["load_average"])
    return f"{d['date'][:10]}, load {min(loads):.1f}-{max(loads):.1f}"


def _bench_goals(d: dict) -> str:
    return "; ".join(f"{name}, {g['goal']}: {'met' if g['met'] else '**missed**'} ({g['value']:,}; {g['distance']})"
                     for name, g in d["goals"].items())


def _long_audio_runs(d: dict) -> str:
    rows = ["| run | x real time end to end | after start-up | wall (s) | CPU (s) | peak RSS (MB) | stages (s) |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in d["runs"].values():
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        rows.append(f"| {r['name']} | {r['x_real_time']:g} | {r['x_real_time_after_start']:g} | {r['wall']:.1f} | "
                    f"{r['cpu']:.1f} | {r['rss_mb']:,.0f} | {stages} |")
    loads = d["load_average"]
    head = (f"Written by a full run of `python benchmarks/long_audio.py` on {d['date'][:10]} "
            f"({d['machine']['cores']} cores, {d['machine']['cpu']}; load average "
            f"{', '.join(map(str, loads['start']))} at the start, {', '.join(map(str, loads['end']))} at the end) "
            f"into `results/benchmarks/long_audio.json`. Data: {d['data']}. Weights: {d['weights']}.")
    return head + "\n\n" + "\n".join(rows) + "\n\nGoals: " + _bench_goals(d) + f". `ratio: {d['ratio']}`"


BENCH_DETAILS = {"long_audio": _long_audio_runs}  # results:bench-NAME blocks


def _link(target: Path, doc: Path) -> str:
    return Path(os.path.relpath(target, doc.parent)).as_posix()


class Renderer:
    """Renders blocks for the documents of one repository root, reading each results file once."""

    def __init__(self, root: Path):
        self.root = root
        self._json: dict[str, dict] = {}
        self._bench: dict[str, dict] = {}

    def shown(self, path: Path) -> str:
        """`path` as the user knows it: relative to the root when it is inside it."""
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    def _file(self, script: str, name: str) -> Path:
        """`name` in results/SCRIPT/, which `python experiments/SCRIPT.py` writes (SCRIPT: table6, esc50)."""
        path = self.root / "results" / script / name
        if not path.is_file():
            raise DocsError(f"{self.shown(path)}: missing; run `python experiments/{script}.py` to write it")
        return path

    def results(self, script: str) -> dict:
        if script not in self._json:
            self._json[script] = self._full_run(self._file(script, "results.json"), script)
        return self._json[script]

    def _full_run(self, path: Path, script: str) -> dict:
        """An experiment script's results.json, refused unless it is a full run's."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DocsError(f"{self.shown(path)}: not valid JSON ({e})") from None
        if not isinstance(data, dict):
            raise DocsError(f"{self.shown(path)}: not a JSON object")
        if data.get("quick") is not False:
            what = "a --quick run's" if data.get("quick") else "does not say whether it is a --quick run's"
            raise DocsError(f"{self.shown(path)}: {what} results; only full runs are rendered "
                            f"(`python experiments/{script}.py` without --quick writes them)")
        return data

    def table6_seeds(self) -> str:
        """mAP per model and seed, mean and spread, and LEAN's margin over the frozen probe per seed."""
        runs = [self.results("table6")] + [self._full_run(path, "table6") for path in
                                    sorted((self.root / "results" / "table6_seeds").glob("seed*/results.json"))]
        try:
            seeds = [d["params"]["seed"] for d in runs]
            models = [m for m in runs[0]["results"] if all(m in d["results"] for d in runs)]
            maps = {m: [d["results"][m]["mAP"] for d in runs] for m in models}
            labels = {m: runs[0]["paper"]["table3"][m]["label"] for m in models}
        except (KeyError, TypeError) as e:
            raise DocsError(f"results/table6_seeds: cannot be rendered ({type(e).__name__} {e})") from None
        rows = ["| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | min-max |",
                "| --- |" + " --- |" * (len(seeds) + 2)]
        for m in models:
            rows.append(f"| {labels[m]} | " + " | ".join(f"{x:.4f}" for x in maps[m]) +
                        f" | {sum(maps[m]) / len(seeds):.4f} | {min(maps[m]):.4f}-{max(maps[m]):.4f} |")
        if {"lean", "yamnet_frozen"} <= set(models):
            margins = [a - b for a, b in zip(maps["lean"], maps["yamnet_frozen"], strict=True)]
            rows.append("| LEAN - frozen YAMNet | " + " | ".join(f"{x:+.4f}" for x in margins) +
                        f" | {sum(margins) / len(seeds):+.4f} | {sum(x > 0 for x in margins)} of {len(seeds)} seeds above 0 |")
        weights = {d.get("yamnet") for d in runs}
        runs_word = "full run" if len(seeds) == 1 else "full runs"
        return (f"{len(seeds)} {runs_word} of `python experiments/table6.py` (seeds {', '.join(map(str, seeds))}; "
                f"{'; '.join(sorted(map(str, weights)))}), eval-split mAP:\n\n" + "\n".join(rows))

    def bench_results(self, name: str) -> dict:
        if name not in self._bench:
            path = self.root / "results" / "benchmarks" / f"{name}.json"
            if not path.is_file():
                raise DocsError(f"{self.shown(path)}: missing; run `python benchmarks/{name}.py` to write it")
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise DocsError(f"{self.shown(path)}: not valid JSON ({e})") from None
            if not isinstance(data, dict) or data.get("quick") is not False:
                raise DocsError(f"{self.shown(path)}: not a full run's results (\"quick\": false); "
                                f"`python benchmarks/{name}.py` without --quick writes them")
            self._bench[name] = data
        return self._bench[name]

    def _bench_field(self, name: str, render: Callable[[dict], str]) -> str:
        try:
            return render(self.bench_results(name))
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise DocsError(f"results/benchmarks/{name}.json: cannot be rendered ({type(e).__name__} {e})") from None

    def benchmarks(self, doc: Path) -> str:
        rows = ["| script | what | run | ratio | goals |", "| --- | --- | --- | --- | --- |"]
        for b in BENCHMARKS:
            script = self.root / "benchmarks" / f"{b.name}.py"
            run = self._bench_field(b.name, _bench_run)
            ratio = self._bench_field(b.name, lambda d: f"{d['ratio']:g}")
            goals = self._bench_field(b.name, _bench_goals)
            rows.append(f"| [`benchmarks/{b.name}.py`]({_link(script, doc)}) | {b.what} | {run} | {ratio} | {goals} |")
        return "\n".join(rows)

    def glance(self, doc: Path) -> str:
        rows = ["| script | reproduces | run | ours (generated corpus) | paper | details |",
                "| --- | --- | --- | --- | --- | --- |"]
        for t in TABLES:
            script = self.root / "experiments" / f"table{t.number}.py"
            try:
                run, ours, paper = t.summarize(self.results(f"table{t.number}"))
            except (KeyError, IndexError, TypeError) as e:
                raise DocsError(f"{self.shown(self._file(f'table{t.number}', 'results.json'))}: the glance row of "
                                f"table{t.number} cannot read it ({type(e).__name__} {e})") from None
            page = self.root / "docs" / f"{t.page}.md"
            rows.append(f"| [`table{t.number}.py`]({_link(script, doc)}) | {t.reproduces} | {run} | {ours} | "
                        f"{paper} | [{t.page}]({_link(page, doc)}) |")
        return "\n".join(rows)

    def table(self, script: str, doc: Path) -> str:
        """results/SCRIPT/table.md as the script printed it, its headings and links fitted to `doc`."""
        folder = self.root / "results" / script
        d = self.results(script)
        env = d.get("environment", {})
        versions = ", ".join(f"{name} {env[key]}" for key, name in VERSIONS.items() if key in env)
        head = ("Printed by a full run of "
                f"`python experiments/{script}.py`{f' ({versions})' if versions else ''} into "
                f"[`results/{script}/table.md`]({_link(folder / 'table.md', doc)}):")
        body = self._file(script, "table.md").read_text(encoding="utf-8").strip("\n")
        levels = [len(m.group(1)) for m in HEADING.finditer(body)]
        shift = TABLE_HEADING_LEVEL - min(levels) if levels else 0
        body = HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + shift) + " ", body)

        def rebase(m: re.Match) -> str:
            target = m.group(2)
            if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):
                return m.group(0)
            return m.group(1) + _link(folder / target, doc) + m.group(3)

        return head + "\n\n" + LINK.sub(rebase, body)

    def block(self, name: str, doc: Path) -> str:
        if name == "glance":
            return self.glance(doc)
        if name == "benchmarks":
            return self.benchmarks(doc)
        if name == "table6-seeds":
            return self.table6_seeds()
        if (m := re.fullmatch(r"bench-(\w+)", name)) and m.group(1) in BENCH_DETAILS:
            return self._bench_field(m.group(1), BENCH_DETAILS[m.group(1)])
        if name in INCLUDED:
            return self.table(name, doc)
        known = ", ".join(["glance", *INCLUDED, "table6-seeds", "benchmarks",
                           *(f"bench-{name}" for name in BENCH_DETAILS)])
        raise DocsError(f"{self.shown(doc)}: unknown block results:{name} (known: {known})")


def render_text(text: str, doc: Path, renderer: Renderer) -> tuple[str, list[str]]:
    """`text` with every block re-rendered, and the names of the blocks whose content changed."""
    out, changed, pos = [], [], 0
    for m in OPEN.finditer(text):
        if m.start() < pos:
            continue
        name = m.group(1)
        close = f"<!-- /results:{name} -->"
        found = re.compile(f"^{re.escape(close)}$", re.M).search(text, m.end())
        if not found:
            raise DocsError(f"{renderer.shown(doc)}: <!-- results:{name} --> has no closing {close}")
        end = found.start()
        _no_stray_close(text[pos:m.start()], doc, renderer)
        new = "\n\n" + renderer.block(name, doc) + "\n\n"
        if text[m.end():end] != new:
            changed.append(name)
        out += [text[pos:m.end()], new]
        pos = end + len(close)
        out.append(close)
    _no_stray_close(text[pos:], doc, renderer)
    return "".join(out) + text[pos:], changed


def _no_stray_close(outside: str, doc: Path, renderer: Renderer) -> None:
    if m := CLOSE.search(outside):
        raise DocsError(f"{renderer.shown(doc)}: {m.group(0)} closes no open block")


def documents(root: Path) -> list[Path]:
    """README.md and every page under docs/."""
    readme = root / "README.md"
    if not readme.is_file():
        raise DocsError(f"{readme}: missing")
    return [readme, *sorted((root / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.render_docs", description=__doc__.split("\n")[0],
                                     epilog="Only full runs are rendered; --quick results are refused.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    renderer = Renderer(root)
    try:  # render every document before writing any, so an error leaves all of them as they were
        rendered = [(doc, *render_text(doc.read_text(encoding="utf-8"), doc, renderer)) for doc in documents(root)]
    except DocsError as e:
        print(f"render_docs: {e}", file=sys.stderr)
        return 1
    stale = [(doc, changed) for doc, _, changed in rendered if changed]
    for doc, text, changed in rendered:
        if changed and args.check:
            for name in changed:
                print(f"{renderer.shown(doc)}: block results:{name} disagrees with results/", file=sys.stderr)
        elif changed:
            doc.write_text(text, encoding="utf-8")
            print(f"rewrote {renderer.shown(doc)}: {', '.join(changed)}")
    if stale and args.check:
        print("render_docs: run `python -m experiments.render_docs` to update them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
