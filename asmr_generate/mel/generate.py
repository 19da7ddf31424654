"""vary / blend / sample with a trained AE, VAE or cGAN: log-mels in, playable wavs and a mel PNG out.

A recording is cut into consecutive ~1 s log-mel slices; generated slices are joined back along
time before one Griffin-Lim inversion (`asmr_generate.mel.invert.mel_to_audio`), so a multi-second
result has no seams, and every file is written at the corpus rate.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from asmr_generate.mel.invert import mel_to_audio
from asmr_generate.mel.models import MelAE, MelCGAN
from asmr_generate.mel.params import GenerateParams
from asmr_generate.mel.plots import save_mel_grid
from audioprep.errors import UsageError
from audioprep.features import mel_slices
from audioprep.io import load_audio, write_audio
from audioprep.segment import repeat_pad


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def recording_slices(path, seconds: float, params: GenerateParams = GenerateParams(), start: float = 0.0) -> np.ndarray:
    """(k, frames, n_mels): up to `seconds` of a recording from `start` seconds on, as consecutive slices (a short
    one is tiled to one slice).

    Only the span the slices need is decoded, so a moment deep in an hours-long recording costs no more than its start.
    """
    mel = params.mel
    k = max(1, int(seconds / mel.slice_seconds))
    needed = k * mel.frames * mel.hop_length + mel.n_fft
    audio, _ = load_audio(path, sr=mel.sample_rate, offset=start, duration=needed / mel.sample_rate)
    if len(audio) < mel.slice_samples:
        audio = repeat_pad(audio, mel.slice_samples)
    slices = mel_slices(audio, mel, hop=mel.frames * mel.hop_length)
    return slices[:k]


def join(slices: np.ndarray) -> np.ndarray:
    """(k, frames, n_mels) -> (k * frames, n_mels): consecutive slices as one spectrogram."""
    return np.concatenate(list(slices), axis=0)


def write_wavs(out: Path, named_mels: dict[str, np.ndarray], params: GenerateParams = GenerateParams()) -> list[Path]:
    """Invert same-length (frames, n_mels) spectrograms in one batch and write `<name>.wav` for each."""
    names = list(named_mels)
    audio = mel_to_audio(np.stack([named_mels[n] for n in names]), params.mel, n_iter=params.griffin_lim_iters,
                         seed=params.seed)
    out.mkdir(parents=True, exist_ok=True)
    return [write_audio(out / f"{n}.wav", a, params.mel.sample_rate) for n, a in zip(names, audio, strict=True)]


def _need(model, kind, command: str):
    if not isinstance(model, kind):
        wanted = "an AE or VAE" if kind is MelAE else "a cGAN"
        raise UsageError(f"--model: `{command}` needs {wanted} run, got {type(model).__name__}")


def vary(model, path, n: int, out: Path, seconds: float, seed: int = 0,
         params: GenerateParams = GenerateParams(), start: float = 0.0) -> list[Path]:
    """`input.wav` (the input's own mel from `start` s, inverted the same way) and `variation_XX.wav` x n, plus
    mels.png."""
    _need(model, MelAE, "vary")
    slices = recording_slices(path, seconds, params, start)
    varied = model.vary(slices, n, seed=seed)  # (k, n, frames, n_mels)
    mels = {"input": join(slices), **{f"variation_{i + 1:02d}": join(varied[:, i]) for i in range(n)}}
    paths = write_wavs(out, mels, params)
    save_mel_grid(out / "mels.png", mels, title=f"{Path(path).name}: input and {n} variations")
    return paths + [out / "mels.png"]


def blend(model, path_a, path_b, alphas, out: Path, seconds: float,
          params: GenerateParams = GenerateParams(), starts: tuple[float, float] = (0.0, 0.0)) -> list[Path]:
    """`a.wav`, `b.wav` and `blend_alpha<..>.wav` per alpha (latent interpolation, slice by slice), plus mels.png;
    each recording is read from its own start (seconds)."""
    _need(model, MelAE, "blend")
    a, b = (recording_slices(path, seconds, params, start) for path, start in zip((path_a, path_b), starts, strict=True))
    k = min(len(a), len(b))
    paths = np.stack([model.blend(a[i], b[i], alphas) for i in range(k)], axis=1)  # (alphas, k, frames, n_mels)
    mels = {"a": join(a[:k]), "b": join(b[:k])}
    mels.update({f"blend_alpha{alpha:.2f}": join(p) for alpha, p in zip(alphas, paths, strict=True)})
    files = write_wavs(out, mels, params)
    save_mel_grid(out / "mels.png", mels, title=f"{Path(path_a).name} -> {Path(path_b).name}")
    return files + [out / "mels.png"]


def sample(model, label: str, n: int, out: Path, blend_with: str | None = None, seed: int = 0,
           params: GenerateParams = GenerateParams()) -> list[Path]:
    """n one-slice samples of `label` (or of the mean of two label embeddings), plus mels.png."""
    _need(model, MelCGAN, "sample")
    for name in (label, blend_with):
        if name is not None and name not in model.classes:
            raise UsageError(f"--label/--blend-with {name!r}: unknown label (the model knows: {', '.join(model.classes)})")
    generated = model.sample(label, n, blend_with=blend_with, seed=seed)
    stem = slug(label) + (f"+{slug(blend_with)}" if blend_with else "")
    mels = {f"{stem}_{i + 1:02d}": m for i, m in enumerate(generated)}
    files = write_wavs(out, mels, params)
    save_mel_grid(out / "mels.png", mels, columns=min(n, 5), title=label + (f" + {blend_with}" if blend_with else ""))
    return files + [out / "mels.png"]
