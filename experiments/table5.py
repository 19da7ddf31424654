"""Table 5 — Adell et al. 2020: per-trigger vs conditioned WaveNet and WaveRNN, Figure 8 MDS, stereo.

For each family (WaveNet, WaveRNN) one unconditioned model per trigger and one conditioned model on all
of them, with equal total training steps (the conditioned model gets as many steps as the per-trigger
models together). Measured on held-out sessions: negative log-likelihood in bits per sample (WaveNet:
8-bit mu-law; WaveRNN: 16-bit coarse + fine), the share of generated ~1 s clips that a cnn1d_x4 trigger
classifier trained on real adell slices assigns to the intended trigger, and the log-mel spectral distance
of generated to real clips. Figure 8: MDS of the pairwise distances of the learned trigger embeddings
after the first and the last epoch. Beyond the paper: a two-channel WaveNet, inter-channel level
difference (ILD) of generated vs real. The paper reports listening impressions only (no numbers) and
ran for far longer; numbers on the generated corpus are not the paper's.

    python experiments/table5.py [--data DIR] [--quick] [--out results/table5] [--runs runs/table5]
    python experiments/table5.py --quick --families wavernn    # one family only (no stereo row without WaveNet)

Runs go to <--runs>/full or <--runs>/quick and are resumed when present (the quick ones are redone).
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import keras
import numpy as np

from asmr_classify.judge import Judge
from asmr_classify.models import adapt
from asmr_classify.models import build as build_classifier
from asmr_corpus.location import layout_dir
from asmr_generate.wave.data import encode
from asmr_generate.wave.metrics import ild_db, nll_bits, spectral_distance, technique_separation
from asmr_generate.wave.params import WaveNetParams, WaveRNNParams
from asmr_generate.wave.sampling import sampler_for
from asmr_generate.wave.train import embeddings as read_embeddings
from asmr_generate.wave.train import train
from asmr_training.run_dir import build_before_tracing
from asmr_training.run_spec import RunSpec
from audioprep.cli import run_cli
from audioprep.features import log_mel
from audioprep.io import resample, write_audio
from audioprep.params import MelSliceParams
from audioprep.report import pyplot
from audioprep.slices import mel_slice_sets
from experiments import harness

# The triggers of the paper's Figure 8: four tapping and three brushing triggers.
FIGURE8 = ("tapping/glass", "tapping/plastic", "tapping/wood", "tapping/metal",
           "brushing/cork", "brushing/microphone", "brushing/sponge microphone")
QUICK_TRIGGERS = ("tapping/glass", "brushing/microphone")
FAMILIES = {"wavenet": "WaveNet", "wavernn": "WaveRNN"}
PAPER_TABLE1 = {"layers per stack": 10, "stacks": 5, "input channels": 256, "residual channels": 512,
                "sample rate (Hz)": 16000, "time steps per example": 32000}


@dataclass(frozen=True)
class Budget:
    """Training and evaluation sizes; the conditioned model gets `len(triggers) x` the per-trigger steps."""

    triggers: tuple[str, ...]
    steps_per_epoch: int
    epochs: int  # per-trigger model
    stereo_epochs: int
    wavenet_segment: int
    wavernn_segment: int
    wavernn_batch: int
    eval_windows: int  # held-out windows of 2048 samples per trigger
    clips: int  # generated clips per model and trigger
    warmup_seconds: float  # generated from silence; dropped before judging
    classifier_epochs: int
    max_slices_per_file: int


# Full: WaveRNN batch 8 (half its default) keeps the run within its CPU budget (about an hour on 2 cores).
FULL = Budget(triggers=FIGURE8, steps_per_epoch=40, epochs=2, stereo_epochs=2, wavenet_segment=2048, wavernn_segment=1024,
              wavernn_batch=8, eval_windows=24, clips=6, warmup_seconds=0.25, classifier_epochs=15, max_slices_per_file=24)
# Quick: 25 steps per epoch bring the held-out NLL from the uniform 8 / 16 bits (at 4 steps) to the full run's
# level (WaveNet about 6 / 5.3 bits, WaveRNN 10.8 / 10.0); graph building, not steps, is most of its time.
QUICK = Budget(triggers=QUICK_TRIGGERS, steps_per_epoch=25, epochs=1, stereo_epochs=1, wavenet_segment=512,
               wavernn_segment=256, wavernn_batch=8, eval_windows=3, clips=2, warmup_seconds=0.05, classifier_epochs=3,
               max_slices_per_file=6)


def log(msg: str) -> None:
    print(f"[table5 {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def slug(trigger: str) -> str:
    return trigger.replace("/", "-").replace(" ", "_")


# ---------------------------------------------------------------- classifier on real slices
def trigger_classifier(root, budget: Budget):
    """The judge, cnn1d_x4 on real log-mel slices of the chosen triggers; returns (judge, real test and
    train slices by trigger, its test accuracy)."""
    sets = mel_slice_sets(root, max_slices_per_file=budget.max_slices_per_file)
    names = sets["train"].classes
    keep = [names.index(t) for t in budget.triggers]
    remap = {old: new for new, old in enumerate(keep)}

    def pick(split):
        s = sets[split]
        rows = np.isin(s.y, keep)
        return s.x[rows], np.array([remap[int(v)] for v in s.y[rows]], np.int64)

    (xtr, ytr), (xva, yva), (xte, yte) = pick("train"), pick("val"), pick("test")
    keras.utils.set_random_seed(0)
    model = build_classifier("cnn1d_x4", input_shape=xtr.shape[1:], num_classes=len(keep))
    adapt(model, xtr)
    build_before_tracing(model, xtr, ytr)
    model.fit(xtr, ytr, validation_data=(xva, yva), epochs=budget.classifier_epochs, batch_size=32, verbose=0)
    accuracy = float((model.predict(xte, verbose=0).argmax(1) == yte).mean())
    real = {t: xte[yte == i] for i, t in enumerate(budget.triggers)}
    train_real = {t: xtr[ytr == i] for i, t in enumerate(budget.triggers)}
    return Judge(model, budget.triggers), real, train_real, accuracy


# ---------------------------------------------------------------- generation and judging
def generate_clips(sampler, sample_rate: int, budget: Budget, trigger_index: int | None, seed: int) -> np.ndarray:
    """`budget.clips` clips (clips, channels, n) at 22.05 kHz, one mel slice long, warm-up dropped."""
    mel = MelSliceParams()
    seconds = mel.slice_samples / mel.sample_rate
    warm = int(budget.warmup_seconds * sample_rate)
    n = warm + int(np.ceil(seconds * sample_rate)) + 8
    audio = sampler.generate(n, batch=budget.clips, trigger=trigger_index, seed=seed, progress=False)
    audio = resample(audio[..., warm:].reshape(-1, n - warm), sample_rate, mel.sample_rate)
    return audio.reshape(budget.clips, -1, audio.shape[-1])[..., : mel.slice_samples]


def judge(clips: np.ndarray, target: int, classifier: Judge, real: np.ndarray) -> dict:
    mels = log_mel(clips.mean(axis=1))
    return {"share": classifier.share(mels, target), "distance_db": spectral_distance(mels, real),
            "rms": float(np.sqrt(np.mean(np.square(clips))))}


# ---------------------------------------------------------------- figure 8
def mds_points(vectors: np.ndarray) -> np.ndarray:
    from scipy.spatial.distance import pdist, squareform
    from sklearn.manifold import MDS

    distances = squareform(pdist(vectors))
    warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
    return MDS(n_components=2, dissimilarity="precomputed", random_state=0, n_init=4).fit_transform(distances)


def figure8(runs: dict, triggers, out: Path) -> dict:
    stats = {}
    fig, axes = pyplot().subplots(len(runs), 2, figsize=(9, 4 * len(runs)), squeeze=False)
    for row, (family, run_path) in enumerate(runs.items()):
        files = sorted((run_path / "embeddings").glob("epoch_*.npy"))
        for col, (stage, file) in enumerate((("early", files[0]), ("late", files[-1]))):
            vectors = np.load(file)
            points = mds_points(vectors)
            epoch = int(file.stem.split("_")[1]) + 1
            stats[f"{family}_{stage}"] = {"epoch": epoch, "separation": technique_separation(vectors, triggers)}
            ax = axes[row][col]
            for (x, y), name in zip(points, triggers, strict=True):
                ax.scatter(x, y, c="tab:red" if name.startswith("tapping") else "tab:blue", s=40)
                ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
            ax.set_title(f"{family} conditioned, epoch {epoch} (between/within {stats[f'{family}_{stage}']['separation']:.2f})",
                         fontsize=9)
    fig.suptitle("Figure 8 (ours): MDS of trigger-embedding distances; red tapping, blue brushing", fontsize=10)
    harness.save_figure(fig, out / "figure8_mds.png")
    return stats


# ---------------------------------------------------------------- stereo
def stereo_row(root, budget: Budget, runs_dir: Path, out: Path) -> dict:
    trigger = budget.triggers[0]
    result = train("wavenet", _spec(runs_dir / "wavenet_stereo", root, budget.stereo_epochs), trigger=trigger,
                   stereo=True, progress=False, verbose=0, steps_per_epoch=budget.steps_per_epoch,
                   segment_samples=budget.wavenet_segment)
    model, params, audio = result.model, result.params, result.data
    window = params.sample_rate // 2
    real = np.concatenate([ild_db(a, window) for a in audio.audio("test")])
    clips = sampler_for(model).generate(int((1.0 + budget.warmup_seconds) * params.sample_rate), batch=budget.clips,
                                        seed=7, progress=False)[..., int(budget.warmup_seconds * params.sample_rate):]
    generated = np.concatenate([ild_db(c, window) for c in clips])
    write_audio(out / f"example_wavenet_stereo_{slug(trigger)}.wav", clips[0], params.sample_rate)
    corr = float(np.mean([np.corrcoef(c[0], c[1])[0, 1] for c in clips]))
    real_corr = float(np.mean([np.corrcoef(a[0], a[1])[0, 1] for a in audio.audio("test")]))
    return {"trigger": trigger, "real_ild_db": [float(real.mean()), float(real.std())],
            "generated_ild_db": [float(generated.mean()), float(generated.std())],
            "real_channel_correlation": real_corr, "generated_channel_correlation": corr}


# ---------------------------------------------------------------- training and evaluation of one family
def _spec(path: Path, root, epochs: int) -> RunSpec:
    """A run that resumes the one already in `path`, if any."""
    return RunSpec(path, root, resume=(path / "state.json").exists(), epochs=epochs)


def family_rows(kind: str, root, budget: Budget, runs_dir: Path, out: Path, classifier, real) -> dict:
    segment = budget.wavenet_segment if kind == "wavenet" else budget.wavernn_segment
    common = {"progress": False, "verbose": 0, "steps_per_epoch": budget.steps_per_epoch,
              "segment_samples": segment, **({"batch_size": budget.wavernn_batch} if kind == "wavernn" else {})}
    rows = {"per_trigger": {}, "conditioned": {}}
    test_audio = {}
    for i, trigger in enumerate(budget.triggers):
        path = runs_dir / f"{kind}_{slug(trigger)}"
        log(f"{kind}: training the {trigger} model")
        result = train(kind, _spec(path, root, budget.epochs), trigger=trigger, **common)
        model, params, audio = result.model, result.params, result.data
        quant = getattr(params, "quantization", 256)
        test_audio[trigger] = [(0, encode(kind, a, quant)) for a in audio.audio("test")]
        clips = generate_clips(sampler_for(model), params.sample_rate, budget, None, seed=i)
        write_audio(out / f"example_{kind}_{slug(trigger)}.wav", clips[0], 22050)
        rows["per_trigger"][trigger] = {"nll_bits": nll_bits(model, kind, test_audio[trigger], budget.eval_windows, None),
                                        **judge(clips, i, classifier, real[trigger])}
    path = runs_dir / f"{kind}_conditioned"
    log(f"{kind}: training the conditioned model on {len(budget.triggers)} triggers")
    result = train(kind, _spec(path, root, budget.epochs * len(budget.triggers)), conditioned=True,
                   triggers=list(budget.triggers), **common)
    model, params = result.model, result.params
    sampler = sampler_for(model)  # compiled once for every trigger
    for i, trigger in enumerate(budget.triggers):
        clips = generate_clips(sampler, params.sample_rate, budget, i, seed=100 + i)
        write_audio(out / f"example_{kind}_conditioned_{slug(trigger)}.wav", clips[0], 22050)
        rows["conditioned"][trigger] = {"nll_bits": nll_bits(model, kind, test_audio[trigger], budget.eval_windows, i),
                                        **judge(clips, i, classifier, real[trigger])}
    rows["params"] = dataclasses.asdict(params)
    rows["embedding_run"] = str(result.path)
    rows["final_embeddings"] = read_embeddings(model).tolist()
    return rows


def summarize(rows: dict) -> dict:
    return {kind: {m: float(np.mean([r[m] for r in rows[kind].values()])) for m in ("nll_bits", "share", "distance_db")}
            for kind in ("per_trigger", "conditioned")}


def verdict(summary: dict) -> tuple[str, list[str]]:
    """Per-trigger better than conditioned on how many of (NLL lower, share higher, distance lower)."""
    p, c = summary["per_trigger"], summary["conditioned"]
    wins = [p["nll_bits"] < c["nll_bits"], p["share"] > c["share"], p["distance_db"] < c["distance_db"]]
    names = [n for n, w in zip(("NLL", "classifier share", "spectral distance"), wins, strict=True) if w]
    word = "confirmed" if sum(wins) == 3 else "not confirmed" if sum(wins) == 0 else "partly confirmed"
    return word, names


# ---------------------------------------------------------------- report
def table_md(results: dict, budget: Budget, quick: bool) -> str:
    lines = [
        f"# Table 5 — WaveNet / WaveRNN, per-trigger vs conditioned (Adell et al. 2020){' — --quick' if quick else ''}",
        "",
        "Measured on the **generated adell corpus** (a procedural stand-in, not the paper's YouTube data); "
        "the paper reports no numbers for these models, only listening impressions, so its column states its finding.",
        f"Triggers: {', '.join(budget.triggers)}. Per-trigger models: {budget.epochs} x {budget.steps_per_epoch} steps "
        f"each; the conditioned model: {budget.epochs * len(budget.triggers)} x {budget.steps_per_epoch} steps "
        "(equal total compute). Default (small CPU) configurations, see the hyper-parameter table.",
        "",
        "| model | held-out NLL (bits/sample) | generated clips classified as intended | log-mel distance to real (dB) | paper |",
        "| --- | --- | --- | --- | --- |",
    ]
    paper = {"per_trigger": "sounds better (listening)", "conditioned": "noisier, triggers poorly separated"}
    families = {kind: label for kind, label in FAMILIES.items() if kind in results}
    for kind, label in families.items():
        for variant in ("per_trigger", "conditioned"):
            s = results[kind]["summary"][variant]
            name = "one model per trigger (mean)" if variant == "per_trigger" else "one conditioned model"
            lines.append(f"| {label}, {name} | {s['nll_bits']:.3f} | {s['share']:.0%} | {s['distance_db']:.2f} | "
                         f"{paper[variant]} |")
    ref = results["reference"]
    lines += [
        f"| real held-out clips (reference) | — | {ref['classifier_test_accuracy']:.0%} | {ref['real_train_vs_test_db']:.2f} | — |",
        "",
        "NLL: WaveNet over 8-bit mu-law samples at its rate, WaveRNN over 16-bit samples (coarse + fine) at 22.05 kHz, "
        "so compare within a family only.",
        "",
        "Paper's finding (per-trigger models sound better than one conditioned model):",
    ]
    for kind, label in families.items():
        word, wins = results[kind]["verdict"]
        lines.append(f"- {label}: **{word}** by our measurements (per-trigger better on: {', '.join(wins) or 'none'}).")
    lines += ["", "## Per trigger", "", "| model | trigger | NLL per-trigger / conditioned | share per-trigger / conditioned "
              "| distance dB per-trigger / conditioned |", "| --- | --- | --- | --- | --- |"]
    for kind in families:
        for t in budget.triggers:
            p, c = results[kind]["per_trigger"][t], results[kind]["conditioned"][t]
            lines.append(f"| {kind} | {t} | {p['nll_bits']:.3f} / {c['nll_bits']:.3f} | {p['share']:.0%} / {c['share']:.0%} "
                         f"| {p['distance_db']:.2f} / {c['distance_db']:.2f} |")
    lines += ["", "## WaveNet hyper-parameters (paper Table 1 vs ours)", "", "| hyper-parameter | paper | ours (default) |",
              "| --- | --- | --- |"]
    if "wavenet" in results:
        ours = results["wavenet"]["params"]
        mine = {"layers per stack": ours["layers_per_stack"], "stacks": ours["stacks"], "input channels": ours["quantization"],
                "residual channels": ours["residual_channels"], "sample rate (Hz)": ours["sample_rate"],
                "time steps per example": ours["segment_samples"]}
        lines += [f"| {k} | {v} | {mine[k]} |" for k, v in PAPER_TABLE1.items()]
    if "wavernn" in results:
        rnn = results["wavernn"]["params"]
        lines += [f"| (WaveRNN) hidden units / rate | not given / 22050 | {rnn['hidden']} / {rnn['sample_rate']} |"]
    lines.append("")
    f8 = results["figure8"]
    lines += ["## Figure 8: trigger embeddings (MDS)", "", "![MDS](figure8_mds.png)", "",
              "Between-technique / within-technique mean embedding distance (paper: tapping and brushing form two far "
              "clusters, i.e. well above 1):", ""]
    lines += [f"- {k.replace('_', ' ')} (epoch {v['epoch']}): " + (
        "n/a (needs two triggers of one technique)" if np.isnan(v["separation"]) else f"{v['separation']:.2f}")
        for k, v in f8.items()]
    if "stereo" in results:
        st = results["stereo"]
        lines += ["", "## Beyond the paper: stereo WaveNet", "",
                  f"Two-channel WaveNet on {st['trigger']}, ILD = 20 log10(rms L / rms R) per 0.5 s window:", "",
                  "| | ILD mean (dB) | ILD std (dB) | L/R correlation |", "| --- | --- | --- | --- |",
                  f"| real held-out sessions | {st['real_ild_db'][0]:.2f} | {st['real_ild_db'][1]:.2f} | "
                  f"{st['real_channel_correlation']:.2f} |",
                  f"| generated | {st['generated_ild_db'][0]:.2f} | {st['generated_ild_db'][1]:.2f} | "
                  f"{st['generated_channel_correlation']:.2f} |"]
    lines += ["", f"Total time: {results['seconds'] / 60:.1f} min.", ""]
    return "\n".join(lines)


def _main(argv=None) -> int:
    parser = harness.parser(__doc__, "table5", "adell-layout folder")
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES),
                        help="only these model families (default: both; the stereo row is WaveNet's)")
    args = parser.parse_args(argv)
    start = time.time()
    budget = harness.budget(args, FULL, QUICK)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    runs_dir = args.runs / ("quick" if args.quick else "full")
    if args.quick and runs_dir.exists():
        shutil.rmtree(runs_dir)
    root = layout_dir("adell", harness.corpus(args, "adell"))
    log(f"data {root}; training the trigger classifier on real slices")
    classifier, real, train_real, accuracy = trigger_classifier(root, budget)
    log(f"classifier accuracy on real held-out slices: {accuracy:.1%}")
    results = {"budget": dataclasses.asdict(budget), "data": str(root),
               "reference": {"classifier_test_accuracy": accuracy,
                             "real_train_vs_test_db": float(np.mean([spectral_distance(train_real[t], real[t])
                                                                     for t in budget.triggers]))}}
    for kind in [k for k in FAMILIES if k in args.families]:
        rows = family_rows(kind, root, budget, runs_dir, out, classifier, real)
        rows["summary"] = summarize(rows)
        rows["verdict"] = verdict(rows["summary"])
        results[kind] = rows
    log("figure 8")
    results["figure8"] = figure8({label: Path(results[kind]["embedding_run"]) for kind, label in FAMILIES.items()
                                  if kind in results}, budget.triggers, out)
    if "wavenet" in results:
        log("stereo WaveNet")
        results["stereo"] = stereo_row(root, budget, runs_dir, out)
    results["seconds"] = time.time() - start
    results["default_params"] = {"wavenet": dataclasses.asdict(WaveNetParams()),
                                 "wavernn": dataclasses.asdict(WaveRNNParams())}
    text = table_md(results, budget, args.quick)
    harness.write_results(out, text, results, quick=args.quick)
    print(text)
    return 0


def main(argv=None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
