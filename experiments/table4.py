"""Table 3 of Moon 2020 (DeepASMR): how often the (f) classifier recognises VAE / cGAN variations and blends.

Variation: 200 generated slices per label, correct when classified as their source label. Blend:
100 tapping + brushing slices, correct when those two labels' probabilities sum past 50 %. (--quick: 50
of each; the cGAN's 1,900 generations alone took 19 s on one core.)
Added to the paper's table: the judge's accuracy on real held-out slices (the ceiling), a Fréchet
distance between generated and real slices on the judge's embedding (lower = closer to real), the
VAE decoder-depth comparison (4 / 5 / 6 layers) and the posterior-collapse diagnostic with and
without the remedy (KL warm-up + free bits), under the summed reconstruction loss used here and under
the per-pixel mean one where collapse (the thesis's Figure 14) appears.

    python experiments/table4.py [--data DIR] [--quick] [--out results/table4] [--runs runs/mel_generators]

On the generated corpus these numbers describe this repository's code, not the thesis's data.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import numpy as np

from asmr_classify.data import generated_data
from asmr_classify.judge import Judge, frechet_distance
from asmr_corpus.location import layout_dir
from asmr_generate.mel import collapse
from asmr_generate.mel.generate import slug, write_wavs
from asmr_generate.mel.params import CGANParams, VAEParams
from asmr_generate.mel.plots import save_mel_grid
from asmr_generate.mel.train import cached_run, load_slice_sets
from audioprep.cache import settings_key
from audioprep.cli import int_at_least, run_cli
from audioprep.errors import UsageError
from audioprep.report import markdown_table
from experiments import harness

PAPER = {"VAE": (71, 93), "GAN": (64, 86)}
TAPPING, BRUSHING = "fingernail tapping", "brushing the microphone"
DEPTHS = (4, 5, 6)
RUNS = "mel_generators"  # runs/<this>: the generator and judge runs tables 3 and 4 share


@dataclass(frozen=True)
class Budget:
    """Slices per recording, the epochs of the VAEs, the cGAN and the judge (the thesis: ~30 on a GPU), and the
    generations judged: variations per label and blends (the thesis: 200 and 100).

    table3 uses this budget too, so it reuses the depth-5 VAE trained here.
    """

    slices: int
    vae_epochs: int
    gan_epochs: int
    judge_epochs: int
    variations: int
    blends: int


# Full: what fits 60 minutes on 2 CPU cores.
FULL = Budget(slices=30, vae_epochs=15, gan_epochs=15, judge_epochs=15, variations=200, blends=100)
QUICK = Budget(slices=8, vae_epochs=3, gan_epochs=3, judge_epochs=3, variations=50, blends=50)


def train_judge(data, folder: Path, epochs: int, slices: int, seed: int) -> Judge:
    """The `deepasmr` (f) classifier trained on the same split (cached in `folder`), as the judge."""
    from asmr_classify.params import params_for
    from asmr_classify.train import train_classifier
    from asmr_training.run_dir import STATE
    from asmr_training.run_spec import RunSpec

    settings = dataclasses.asdict(params_for("deepasmr", epochs=epochs))
    digest = settings_key({**settings, "slices": slices, "seed": seed, "data": str(data)}, length=10)
    out = folder / f"judge-deepasmr-{digest}"
    train_classifier("deepasmr", RunSpec(out, data, resume=(out / STATE).exists(), epochs=epochs, seed=seed,
                                         max_per_file=slices), verbose=0)
    return Judge.from_run(out)


def _pick(rng, pool: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(pool, n, replace=len(pool) < n)


def vae_generations(model, test, classes, budget: Budget, seed: int) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Variations per label (one posterior sample of a random held-out slice each) and midpoint blends."""
    rng = np.random.default_rng(seed)
    variations = {}
    for c in range(len(classes)):
        pool = np.flatnonzero(test.y == c)
        variations[c] = model.vary(test.x[_pick(rng, pool, budget.variations)], 1, seed=seed + c)[:, 0]
    taps = test.x[_pick(rng, np.flatnonzero(test.y == classes.index(TAPPING)), budget.blends)]
    brushes = test.x[_pick(rng, np.flatnonzero(test.y == classes.index(BRUSHING)), budget.blends)]
    z = 0.5 * (model.encode(taps) + model.encode(brushes))
    return variations, model.decode(z)


def gan_generations(model, classes, budget: Budget, seed: int) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Samples per label and samples conditioned on the mean tapping / brushing embedding."""
    variations = {c: model.sample(label, budget.variations, seed=seed + c) for c, label in enumerate(classes)}
    return variations, model.sample(TAPPING, budget.blends, blend_with=BRUSHING, seed=seed)


def judge_generations(judge: Judge, variations: dict[int, np.ndarray], blends: np.ndarray, classes) -> dict:
    per_label = {classes[c]: judge.share(x, c) for c, x in variations.items()}
    p = judge.proba(blends)
    pair = p[:, classes.index(TAPPING)] + p[:, classes.index(BRUSHING)]
    return {
        "variation_accuracy": float(np.mean(list(per_label.values()))),
        "variation_per_label": per_label,
        "blend_accuracy": float(np.mean(pair > 0.5)),
    }


def _history_row(run_folder: Path, monitor: str) -> dict:
    from asmr_training.run_dir import read_history

    rows = read_history(run_folder)
    return min(rows, key=lambda r: r[monitor])


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def described(root: Path) -> str:
    """A layout folder, marked when it is the generated corpus."""
    return f"{root} (generated corpus)" if generated_data(root) else str(root)


def run(data, quick: bool, out: Path, runs: Path, budget: Budget, seed: int = 0) -> dict:
    started = time.time()
    scale = dataclasses.asdict(budget)
    root = layout_dir("deepasmr", data)
    sets = load_slice_sets(data, budget.slices, seed=0)
    classes, test = sets["train"].classes, sets["test"]
    for label in (TAPPING, BRUSHING):
        if label not in classes:
            raise UsageError(f"{data}: the blend needs the labels {TAPPING!r} and {BRUSHING!r} (found: {classes})")
    key = {"data": str(data), "slices": budget.slices, "split_seed": 0}
    print(f"table4: {len(sets['train'])} train / {len(sets['val'])} val / {len(test)} test slices; "
          f"{'--quick' if quick else 'full'} scale {scale}", flush=True)

    print("training the judge (deepasmr (f) classifier) ...", flush=True)
    judge = train_judge(data, runs, budget.judge_epochs, budget.slices, seed)
    if judge.classes != classes:
        raise UsageError(f"judge classes {judge.classes} differ from the generators' {classes}")
    real_acc = float(np.mean(judge.proba(test.x).argmax(1) == test.y))
    real_emb = judge.embed(test.x)
    floor_fd = frechet_distance(judge.embed(sets["train"].x), real_emb)

    vaes, depth_rows = {}, []
    for depth in DEPTHS:
        p = VAEParams(decoder_depth=depth, epochs=budget.vae_epochs)
        print(f"training the VAE, decoder depth {depth} ...", flush=True)
        vaes[depth], folder = cached_run("vae", p, sets, runs, key, seed=seed)
        best = _history_row(folder, "val_elbo")
        var, blend = vae_generations(vaes[depth], test, classes, budget, seed)
        judged = judge_generations(judge, var, blend, classes)
        depth_rows.append({"depth": depth, "val_elbo": best["val_elbo"], "val_recon": best["val_recon"],
                           "val_kl": best["val_kl"], **judged})
    frames, n_mels = test.x.shape[1:]
    per_pixel = 1.0 / (frames * n_mels)
    collapse_runs = {  # (label, params); the first is the main VAE above
        "summed BCE + remedy": VAEParams(epochs=budget.vae_epochs),
        "summed BCE, plain ELBO": VAEParams(epochs=budget.vae_epochs, kl_warmup_epochs=0, free_bits=0.0),
        "per-pixel mean BCE + remedy": VAEParams(epochs=budget.vae_epochs, recon_weight=per_pixel),
        "per-pixel mean BCE, plain": VAEParams(epochs=budget.vae_epochs, recon_weight=per_pixel,
                                               kl_warmup_epochs=0, free_bits=0.0),
    }
    collapse_models = {"summed BCE + remedy": vaes[5]}
    for label, p in list(collapse_runs.items())[1:]:
        print(f"training the VAE for the collapse diagnostic: {label} ...", flush=True)
        collapse_models[label], _ = cached_run("vae", p, sets, runs, key, seed=seed)
    print("training the cGAN ...", flush=True)
    gan, _ = cached_run("cgan", CGANParams(epochs=budget.gan_epochs), sets, runs, key, seed=seed)

    vae = vaes[5]
    gens = {"VAE": vae_generations(vae, test, classes, budget, seed), "GAN": gan_generations(gan, classes, budget, seed)}
    for label, model in list(collapse_models.items())[1:]:
        gens[f"VAE, {label}"] = vae_generations(model, test, classes, budget, seed)
    results = {}
    for name, (var, blend) in gens.items():
        results[name] = judge_generations(judge, var, blend, classes)
        results[name]["frechet_variations"] = frechet_distance(judge.embed(np.concatenate(list(var.values()))), real_emb)
        results[name]["frechet_blends"] = frechet_distance(judge.embed(blend), real_emb)

    reports = {label: collapse.diagnose(model, test.x, seed=seed) for label, model in collapse_models.items()}
    out.mkdir(parents=True, exist_ok=True)  # the figures come first
    collapse.plot(reports, out / "collapse.png")
    _examples(out, test, classes, vae, gan, seed)

    main_rows = [[name, _pct(results[name]["variation_accuracy"]), f"{PAPER[name][0]} %",
                  _pct(results[name]["blend_accuracy"]), f"{PAPER[name][1]} %",
                  f"{results[name]['frechet_variations']:.2f}", f"{results[name]['frechet_blends']:.2f}"]
                 for name in ("VAE", "GAN")]
    main_rows.append(["real held-out slices (ceiling)", _pct(real_acc), "-", "-", "-", f"{floor_fd:.2f} (train vs test)", "-"])
    depth_table = markdown_table(
        ["VAE decoder depth", "best val ELBO (nats)", "recon", "KL", "variation acc.", "blend acc."],
        [[r["depth"], f"{r['val_elbo']:.1f}", f"{r['val_recon']:.1f}", f"{r['val_kl']:.1f}",
          _pct(r["variation_accuracy"]), _pct(r["blend_accuracy"])] for r in depth_rows])
    collapse_table = markdown_table(
        ["VAE (depth 5)", "active units", "KL total (nats)", "dims with KL > 0.1", "output diversity",
         "variation acc.", "blend acc."],
        [[name, f"{r.active_units}/{r.latent_dim}", f"{r.kl_total:.1f}", r.summary()["dims_with_kl_over_0.1"],
          f"{r.output_diversity:.2f}", _pct(results[g]["variation_accuracy"]), _pct(results[g]["blend_accuracy"])]
         for (name, r), g in zip(reports.items(), ["VAE"] + [f"VAE, {k}" for k in list(reports)[1:]], strict=True)])
    header = (f"Table 3 (Moon 2020) on {described(root)}"
              f"{' (--quick)' if quick else ''}; ours beside the paper's. Numbers on the generated corpus are "
              "not the paper's.")
    text = "\n\n".join([
        header,
        markdown_table(["generator", "variation (ours)", "variation (paper)", "blend (ours)", "blend (paper)",
                  "Fréchet dist. variations", "Fréchet dist. blends"], main_rows),
        "Decoder depth (paper: 5 layers best, 4 and 6 worse):\n\n" + depth_table,
        f"Posterior collapse, depth 5 (remedy: KL warm-up over {VAEParams().kl_warmup_epochs} epochs + free bits "
        f"{VAEParams().free_bits} nats/dim; 'per-pixel mean' divides the reconstruction term by {frames * n_mels}, "
        "the collapse-prone weighting of many Keras VAE tutorials):\n\n" + collapse_table,
    ])
    payload = {
        "data": str(root), "generated_corpus": generated_data(root), "scale": scale,
        "seconds": round(time.time() - started, 1), "classes": classes, "real_accuracy": real_acc,
        "frechet_train_vs_test": floor_fd, "results": results, "paper": PAPER, "decoder_depth": depth_rows,
        "collapse": {k: {**dataclasses.asdict(v), "params": dataclasses.asdict(collapse_runs[k])}
                     for k, v in reports.items()},
        "params": {"vae": dataclasses.asdict(VAEParams(epochs=budget.vae_epochs)),
                   "cgan": dataclasses.asdict(CGANParams(epochs=budget.gan_epochs))},
    }
    harness.write_results(out, text, payload, quick=quick)
    print(text)
    print(f"wrote {out}/ in {payload['seconds']:.0f} s")
    return payload


def _examples(out: Path, test, classes, vae, gan, seed: int) -> None:
    """examples.png and audio/*.wav: a held-out tapping and brushing slice, the VAE's variation of each,
    cGAN samples of both labels, and both generators' blends."""
    mels, real = {}, {}
    for label, short in ((TAPPING, "tapping"), (BRUSHING, "brushing")):
        real[label] = test.x[np.flatnonzero(test.y == classes.index(label))[0]]
        mels[f"real {short}"] = real[label]
        mels[f"VAE variation of real {short}"] = vae.vary(real[label][None], 1, seed=seed)[0, 0]
        mels[f"cGAN {short}"] = gan.sample(label, 1, seed=seed)[0]
    mels["VAE blend of the two reals"] = vae.blend(real[TAPPING], real[BRUSHING], [0.5])[0]
    mels["cGAN blend (mean embedding)"] = gan.sample(TAPPING, 1, blend_with=BRUSHING, seed=seed)[0]
    save_mel_grid(out / "examples.png", mels, columns=3, title="held-out real slices and generated ones")
    shutil.rmtree(out / "audio", ignore_errors=True)  # only this run's examples
    write_wavs(out / "audio", {slug(k): v for k, v in mels.items()})


def _main(argv=None) -> int:
    parser = harness.parser(__doc__, "table4", "deepasmr-layout folder", runs=RUNS)
    parser.add_argument("--slices", type=int_at_least(1), help=f"slices per recording (default {FULL.slices}; --quick: {QUICK.slices})")
    parser.add_argument("--epochs", type=int_at_least(1), help="epochs of every VAE, the cGAN and the judge "
                        f"(default {FULL.vae_epochs}; --quick: {QUICK.vae_epochs})")
    parser.add_argument("--seed", type=int, default=0, help="weights and sampling seed")
    args = parser.parse_args(argv)
    budget = harness.budget(args, FULL, QUICK, slices=args.slices, vae_epochs=args.epochs, gan_epochs=args.epochs,
                            judge_epochs=args.epochs)
    run(harness.corpus(args, "deepasmr"), args.quick, args.out, args.runs, budget, args.seed)
    return 0


def main(argv=None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
