"""Table 2 of Moon 2020 (DeepASMR): Audio Commons timbral attributes of two tapping sounds and their blends.

Rows: a glass-like and a wood-like tapping slice (~1 s), the same two passed through the mel ->
Griffin-Lim inversion alone (what inversion by itself does to the scores), their VAE blend (encode
both, average the latent means, decode, invert), their plain linear interpolation (the average of
the two waveforms) and a WaveNet-autoencoder blend (the paper's "Magenta" row, NSynth). Scores come
from `timbral-models` 0.4.0 through `asmr_generate.mel.timbral`.

    python experiments/table3.py [--data PARENT] [--glass FILE --wood FILE] [--quick] [--out results/table3]

`--data` is a folder holding `deepasmr/` (trains the VAE) and, unless --glass/--wood are given,
`adell/` (tapping/glass and tapping/wood sessions). The budget is table4's, and so is the VAE:
table4's depth-5 VAE, cached in runs/mel_generators/, is reused when present. Numbers on the
generated corpus are not the paper's.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import audioprep.quiet  # noqa: F401  (before Keras: TensorFlow starts quietly)

import numpy as np

from asmr_corpus.location import layout_dir
from asmr_generate.mel.invert import mel_to_audio
from asmr_generate.mel.params import GenerateParams, VAEParams
from asmr_generate.mel.plots import save_mel_grid
from asmr_generate.mel.timbral import ATTRIBUTES, timbral_attributes
from asmr_generate.mel.train import cached_run, load_slice_sets
from audioprep.cli import existing_path, int_at_least, run_cli
from audioprep.errors import UsageError
from audioprep.features import log_mel
from audioprep.io import load_audio, write_audio
from audioprep.report import markdown_table
from audioprep.segment import fixed_clips, repeat_pad
from experiments import harness
from experiments.table4 import FULL, QUICK, RUNS, Budget, described

PAPER = {
    "Glass (input)": (77, 38, 66, 62, 40, 61, 26),
    "Wood (input)": (75, 38, 77, 76, 39, 61, 25),
    "VAE blend": (84, 38, 73, 77, 34, 61, 19),
    "Linear interpolation": (75, 38, 77, 76, 39, 61, 25),
    "WaveNet autoencoder (Magenta)": (60, 34, 67, 71, 47, 58, 21),
}
WAVENET_NOT_RUN = (
    "not run: NSynth's pretrained WaveNet autoencoder is not available offline, and this repository's "
    "WaveNet (Adell 2020) is a label-conditioned generator with no encoder, so it cannot encode two given "
    "recordings and blend them"
)


def loudest_slice(path, params: GenerateParams = GenerateParams()) -> np.ndarray:
    """The ~1 s window (hop 1/4 slice) of a recording with the most energy: the clearest taps."""
    audio, _ = load_audio(path, sr=params.mel.sample_rate)
    n = params.mel.slice_samples
    if len(audio) < n:
        return repeat_pad(audio, n)
    clips = fixed_clips(audio, n, hop=n // 4)
    return clips[int(np.argmax(np.mean(clips**2, axis=1)))]


def default_inputs(data) -> tuple[Path, Path]:
    root = layout_dir("adell", data)
    found = []
    for material in ("glass", "wood"):
        files = sorted((root / "tapping" / material).glob("*.wav"))
        if not files:
            raise UsageError(f"{root}: no tapping/{material}/*.wav (pass --glass FILE --wood FILE)")
        found.append(files[0])
    return found[0], found[1]


def run(data, glass_file, wood_file, quick: bool, out: Path, runs: Path, budget: Budget, seed: int = 0) -> dict:
    started = time.time()
    gp = GenerateParams()
    if (glass_file is None) != (wood_file is None):
        raise UsageError("--glass/--wood: give both or neither")
    if glass_file is None:
        glass_file, wood_file = default_inputs(data)
    glass, wood = loudest_slice(glass_file, gp), loudest_slice(wood_file, gp)

    sets = load_slice_sets(data, budget.slices, seed=0)
    key = {"data": str(data), "slices": budget.slices, "split_seed": 0}
    print("training (or reusing) the VAE ...", flush=True)
    vae, _ = cached_run("vae", VAEParams(epochs=budget.vae_epochs), sets, runs, key, seed=seed)

    mels = log_mel(np.stack([glass, wood]), gp.mel)
    blend_mel = vae.blend(mels[0], mels[1], [0.5])[0]
    resynth = mel_to_audio(np.stack([mels[0], mels[1], blend_mel]), gp.mel, n_iter=gp.griffin_lim_iters, seed=gp.seed)
    clips = {
        "Glass (input)": glass,
        "Wood (input)": wood,
        "Glass, mel -> Griffin-Lim only": resynth[0],
        "Wood, mel -> Griffin-Lim only": resynth[1],
        "VAE blend": resynth[2],
        "Linear interpolation": 0.5 * (glass + wood),
    }
    print("scoring timbral attributes ...", flush=True)
    scores = {name: timbral_attributes(audio, gp.mel.sample_rate) for name, audio in clips.items()}

    for name, audio in clips.items():
        write_audio(out / "audio" / f"{_file_name(name)}.wav", audio, gp.mel.sample_rate)
    shown = {"glass": mels[0], "wood": mels[1], "VAE blend": blend_mel,
             "linear": log_mel(clips["Linear interpolation"][None], gp.mel)[0]}
    save_mel_grid(out / "mels.png", shown, title="glass, wood, VAE blend, linear interpolation (log-mel)")

    rows = []
    for name, sc in scores.items():
        rows.append([f"{name} (ours)", *(f"{sc[a]:.0f}" for a in ATTRIBUTES)])
        if name in PAPER:
            rows.append([f"{name} (paper)", *PAPER[name]])
    rows.append(["WaveNet autoencoder (ours)", *["-"] * len(ATTRIBUTES)])
    rows.append(["WaveNet autoencoder (Magenta, paper)", *PAPER["WaveNet autoencoder (Magenta)"]])
    text = "\n".join([
        f"Table 2 (Moon 2020): timbral attributes on {described(layout_dir('deepasmr', data))}"
        f"{' (--quick)' if quick else ''}; inputs {Path(glass_file).name} (glass) and {Path(wood_file).name} "
        "(wood), loudest ~1 s of each. Numbers on the generated corpus are not the paper's.",
        "",
        markdown_table(["row", *ATTRIBUTES], rows),
        "",
        f"WaveNet autoencoder row: {WAVENET_NOT_RUN}.",
    ])
    payload = {
        "data": str(layout_dir("deepasmr", data)), "glass": str(glass_file),
        "wood": str(wood_file), "scores": scores, "paper": {k: dict(zip(ATTRIBUTES, v, strict=True)) for k, v in PAPER.items()},
        "wavenet_autoencoder": WAVENET_NOT_RUN, "scale": dataclasses.asdict(budget),
        "seconds": round(time.time() - started, 1), "params": dataclasses.asdict(VAEParams(epochs=budget.vae_epochs)),
    }
    harness.write_results(out, text, payload, quick=quick)
    print(text)
    print(f"wrote {out}/ in {payload['seconds']:.0f} s")
    return payload


def _file_name(row: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in row.lower()).strip("_").replace("__", "_")


def _main(argv=None) -> int:
    parser = harness.parser(__doc__, "table3", "folder with deepasmr/ (and adell/)", runs=RUNS)
    parser.add_argument("--glass", type=existing_path, help="a glass-like tapping recording")
    parser.add_argument("--wood", type=existing_path, help="a wood-like tapping recording")
    parser.add_argument("--slices", type=int_at_least(1), help=f"slices per recording (default {FULL.slices}; --quick: {QUICK.slices})")
    parser.add_argument("--epochs", type=int_at_least(1), help=f"VAE epochs (default {FULL.vae_epochs}; --quick: {QUICK.vae_epochs})")
    parser.add_argument("--seed", type=int, default=0, help="weights and sampling seed")
    args = parser.parse_args(argv)
    budget = harness.budget(args, FULL, QUICK, slices=args.slices, vae_epochs=args.epochs)
    data = harness.corpus(args, "deepasmr", *(() if args.glass or args.wood else ("adell",)))
    run(data, args.glass, args.wood, args.quick, args.out, args.runs, budget, args.seed)
    return 0


def main(argv=None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
