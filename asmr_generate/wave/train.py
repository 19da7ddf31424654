"""Training of WaveNet / WaveRNN on adell triggers: one trigger (unconditioned) or all (conditioned).

Teacher-forced next-sample prediction is an ordinary supervised problem, so training is `model.fit`
through `RunDir.fit` (checkpoints, one history, resume). Callbacks write audio samples every N steps
and, for conditioned models, the trigger embeddings after every epoch (`embeddings/epoch_NNN.npy`, the
data of Figure 8). `params.json` records the params and what the synth command needs: model kind,
trigger names, sample rate, channels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from asmr_corpus.location import layout_dir
from asmr_generate.wave.data import SegmentBatches, encode, load_trigger_audio
from asmr_generate.wave.params import WaveNetParams, WaveRNNParams, wavenet_params, wavernn_params
from asmr_generate.wave.sampling import sampler_for
from asmr_generate.wave.wavenet import build_wavenet, compile_wavenet
from asmr_generate.wave.wavenet import trigger_embeddings as wavenet_embeddings
from asmr_generate.wave.wavernn import build_wavernn, compile_wavernn
from asmr_generate.wave.wavernn import trigger_embeddings as wavernn_embeddings
from asmr_training import distribute
from asmr_training.run_dir import PARAMS, RunDir
from audioprep.errors import BadFileError, UsageError
from audioprep.files import read_json
from audioprep.io import write_audio

KINDS = ("wavenet", "wavernn")


@dataclass(frozen=True)
class WaveSetup:
    """What a run is, beyond its hyper-parameters; stored in params.json for resume and synth."""

    kind: str
    triggers: tuple[str, ...]
    conditioned: bool
    conditioning: str = "none"
    config: str = "default"
    seed: int = 0

    @property
    def trigger_count(self) -> int:
        return len(self.triggers) if self.conditioned else 0


def make_params(kind: str, config: str = "default", **overrides):
    if kind not in KINDS:
        raise UsageError(f"model must be one of {', '.join(KINDS)}, not {kind!r}")
    return (wavenet_params if kind == "wavenet" else wavernn_params)(config, **overrides)


def build(setup: WaveSetup, params) -> keras.Model:
    if setup.kind == "wavenet":
        return compile_wavenet(build_wavenet(params, setup.trigger_count), params.learning_rate)
    model = build_wavernn(params, setup.trigger_count, setup.conditioning if setup.conditioned else "none")
    return compile_wavernn(model, params.learning_rate)


def embeddings(model: keras.Model) -> np.ndarray:
    return wavenet_embeddings(model) if model.name.startswith("wavenet") else wavernn_embeddings(model)


def read_run(path) -> tuple[WaveSetup, WaveNetParams | WaveRNNParams]:
    """The setup and params a run folder (or a model file beside its params.json) was trained with."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    file = folder / PARAMS
    if not file.exists():
        raise UsageError(f"{file}: missing; --model needs a run folder from `train` (or a model file beside its params.json)")
    stored = read_json(file)
    try:
        setup = WaveSetup(**{**stored["setup"], "triggers": tuple(stored["setup"]["triggers"])})
        cls = WaveNetParams if setup.kind == "wavenet" else WaveRNNParams
        return setup, cls(**stored["params"])
    except (KeyError, TypeError) as err:
        raise BadFileError(file, f"not a WaveNet / WaveRNN run ({type(err).__name__}: {err})") from None


class SampleWriter(keras.callbacks.Callback):
    """Every `every` training steps, sample `seconds` of audio per trigger into `folder/step_NNNNNN*.wav`."""

    def __init__(self, folder: Path, every: int, seconds: float, setup: WaveSetup, sample_rate: int, start_step: int):
        super().__init__()
        self.folder, self.every, self.seconds = Path(folder), every, seconds
        self.setup, self.sample_rate, self.step = setup, sample_rate, start_step
        self.sampler = None

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every and self.step % self.every == 0:
            self.write()

    def write(self):
        """One batch: a clip per trigger of a conditioned model, one clip otherwise."""
        if self.sampler is None or self.sampler.model is not self.model:
            self.sampler = sampler_for(self.model)
        n = int(self.seconds * self.sample_rate)
        if self.setup.conditioned:
            names = self.setup.triggers
            audio = self.sampler.generate(n, batch=len(names), trigger=np.arange(len(names)), seed=self.step,
                                          progress=False)
        else:
            names, audio = (None,), self.sampler.generate(n, seed=self.step, progress=False)
        for name, clip in zip(names, audio, strict=True):
            suffix = "" if name is None else "_" + name.replace("/", "-")
            write_audio(self.folder / f"step_{self.step:06d}{suffix}.wav", clip, self.sample_rate)


class EmbeddingLog(keras.callbacks.Callback):
    """After every epoch, store the conditioned model's trigger embeddings (Figure 8's early/late points)."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = Path(folder)

    def on_epoch_end(self, epoch, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        np.save(self.folder / f"epoch_{epoch:03d}.npy", embeddings(self.model))


def train(kind: str, out, data=None, epochs: int | None = None, trigger: str | None = None,
          conditioned: bool = False, triggers=None, conditioning: str = "concat", config: str = "default",
          resume: bool = False, sample_every: int = 0, sample_seconds: float = 0.5, stereo: bool = False,
          seed: int = 0, progress: bool = True, verbose: int | str = "auto",
          distribution: distribute.Distribution | None = None, **overrides):
    """Train one model into the run folder `out`; returns (model, run, setup, params, audio).

    An unconditioned model learns `trigger`; a conditioned one every trigger of the folder, or `triggers`."""
    if trigger and conditioned:
        raise UsageError("--trigger and --conditioned exclude each other: one trigger, or all triggers")
    if stereo and kind != "wavenet":
        raise UsageError("--stereo: the two-channel variant is a WaveNet")
    root = layout_dir("adell", data)
    dist = distribution or distribute.Distribution()
    run = RunDir(out, resume=resume, chief=dist.chief)
    if resume:
        setup, params = read_run(out)
    else:
        params = make_params(kind, config, **({"channels": 2} if stereo else {}), **overrides)
        setup = None
    epochs = epochs or params.epochs
    dist.check_batch(params.batch_size)
    channels = getattr(params, "channels", 1)
    keras.utils.set_random_seed(seed)
    wanted = list(setup.triggers) if setup else ([trigger] if trigger else triggers if conditioned else None)
    audio = load_trigger_audio(root, params.sample_rate, channels, wanted, seed=seed, progress=progress)
    if setup is None:
        if not conditioned and len(audio.triggers) > 1:
            raise UsageError(f"--trigger: pick one of {', '.join(audio.triggers)} (or pass --conditioned)")
        setup = WaveSetup(kind, tuple(audio.triggers), conditioned, conditioning if conditioned else "none", config, seed)
    if not resume:
        run.write_params(params, setup=dataclasses.asdict(setup), data=str(root),
                         distribute=dist.describe(params.batch_size))
    quant = getattr(params, "quantization", 256)
    sequences = {s: [(t, encode(kind, a, quant)) for t, a in audio.splits[s]] for s in ("train", "val")}
    train_batches = SegmentBatches(kind, sequences["train"], params.segment_samples, params.batch_size,
                                   params.steps_per_epoch, seed, setup.conditioned, quantization=quant,
                                   initial_epoch=run.initial_epoch)
    val_batches = SegmentBatches(kind, sequences["val"], params.segment_samples, params.batch_size,
                                 max(2, params.steps_per_epoch // 10), seed + 1, setup.conditioned, fixed=True,
                                 quantization=quant)
    callbacks = []  # they write files: the chief's alone
    if sample_every and dist.chief:
        callbacks.append(SampleWriter(run.file("samples"), sample_every, sample_seconds, setup, params.sample_rate,
                                      run.initial_epoch * params.steps_per_epoch))
    if setup.conditioned and dist.chief:
        callbacks.append(EmbeddingLog(run.file("embeddings")))
    model = dist.fit(run, dist.build(lambda: build(setup, params)), train_batches, epochs,
                     validation_data=val_batches, callbacks=callbacks, verbose=verbose if progress else 0)
    return model, run, setup, params, audio
