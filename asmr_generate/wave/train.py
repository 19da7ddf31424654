"""Training of WaveNet / WaveRNN on adell triggers: one trigger (unconditioned) or all (conditioned).

Teacher-forced next-sample prediction is an ordinary supervised problem, so training is `model.fit`
through `RunDir.fit` (checkpoints, one history, resume). Callbacks write audio samples every N steps
and, for conditioned models, the trigger embeddings after every epoch (`embeddings/epoch_NNN.npy`, the
data of Figure 8). `params.json` records the params and what the synth command needs: model kind,
trigger names, sample rate, channels.
"""

from __future__ import annotations

import argparse
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
from asmr_training.run_dir import PARAMS
from asmr_training.run_record import read_classes, recorded_params
from asmr_training.run_spec import RunSpec, check_fields, one_of
from asmr_training.start import RunResult, start_run
from audioprep.errors import BadFileError, UsageError
from audioprep.files import read_json
from audioprep.io import write_audio

KINDS = ("wavenet", "wavernn")


@dataclass(frozen=True)
class WaveSetup:
    """What a run is, beyond its hyper-parameters: params.json's `setup`, with the triggers as its `classes`."""

    kind: str
    triggers: tuple[str, ...]
    conditioned: bool
    conditioning: str = "none"
    config: str = "default"

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
        setup = WaveSetup(**stored["setup"], triggers=tuple(read_classes(folder) or ()))
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


FRESH = {"conditioned": False, "conditioning": "concat", "config": "default", "stereo": False}  # a new run's defaults


def _rules(params) -> dict:
    """Each params field's allowed values, checked on `--set` values before any audio is read."""
    from audioprep.cli import int_at_least, positive_float

    rules = {f.name: int_at_least(1) for f in dataclasses.fields(params)}
    rules.update(learning_rate=positive_float, quantization=int_at_least(2), kernel_size=int_at_least(2),
                 channels=one_of("1", "2"), hidden=even_at_least(2))
    return {name: rule for name, rule in rules.items() if hasattr(params, name)}


def even_at_least(least: int):
    """A value rule: an even integer >= `least` (WaveRNN's state splits into coarse and fine halves)."""
    from audioprep.cli import int_at_least

    def parse(value: str) -> int:
        number = int_at_least(least)(value)
        if number % 2:
            raise argparse.ArgumentTypeError(f"must be an even integer >= {least}, not {value}")
        return number

    return parse


def check_params(params) -> None:
    check_fields(params, _rules(params), lambda name, value: f"--set {name}={value}")


def _check_setup(kind: str, asked: dict) -> None:
    """The setup flags that exclude each other, checked as asked (a resume's recorded ones were checked before)."""
    if kind not in KINDS:
        raise UsageError(f"model must be one of {', '.join(KINDS)}, not {kind!r}")
    if asked["trigger"] and asked["conditioned"]:
        raise UsageError("--trigger and --conditioned exclude each other: one trigger, or all triggers")
    if asked["triggers"] and asked["conditioned"] is False:
        raise UsageError("--triggers: only with --conditioned (an unconditioned model takes one --trigger)")
    if asked["stereo"] and kind != "wavenet":
        raise UsageError("--stereo: the two-channel variant is a WaveNet")


def train(kind: str, spec: RunSpec, *, trigger: str | None = None, conditioned: bool | None = None, triggers=None,
          conditioning: str | None = None, config: str | None = None, stereo: bool | None = None,
          sample_every: int = 0, sample_seconds: float = 0.5, progress: bool = True, verbose: int | str = "auto",
          **overrides) -> RunResult:
    """Train one model as `spec` says; an unconditioned model learns `trigger`, a conditioned one every trigger of
    the folder, or `triggers`. Setup arguments left None take a new run's defaults, or a resume's recorded values;
    `overrides` replace params fields (of the config's, or of the run's recorded params when resuming)."""
    asked = {"kind": kind, "trigger": trigger, "conditioned": conditioned,
             "triggers": list(triggers) if triggers else None, "conditioning": conditioning, "config": config,
             "stereo": stereo}
    if not spec.resume:
        asked = {**asked, **{k: v for k, v in FRESH.items() if asked[k] is None}}
    _check_setup(kind, asked)
    if spec.resume:
        params = dataclasses.replace(recorded_params(spec.out, make_params(kind)), **overrides)
    else:
        params = make_params(kind, asked["config"], **({"channels": 2} if asked["stereo"] else {}), **overrides)
    with start_run(spec, params, settings=asked, check=check_params) as run:
        chosen, params, dist = run.settings, run.params, run.dist
        root = layout_dir("adell", run.spec.data)
        if run.spec.resume:
            wanted = read_classes(run.path)
        else:
            wanted = [chosen["trigger"]] if chosen["trigger"] else chosen["triggers"] if chosen["conditioned"] else None
        audio = load_trigger_audio(root, params.sample_rate, getattr(params, "channels", 1), wanted,
                                   seed=run.spec.seed, progress=progress)
        if not chosen["conditioned"] and len(audio.triggers) > 1:
            raise UsageError(f"--trigger: pick one of {', '.join(audio.triggers)} (or pass --conditioned)")
        setup = WaveSetup(kind, tuple(audio.triggers), chosen["conditioned"],
                          chosen["conditioning"] if chosen["conditioned"] else "none", chosen["config"])
        run.describe(setup.triggers, setup={k: v for k, v in dataclasses.asdict(setup).items() if k != "triggers"},
                     root=str(root))
        quant = getattr(params, "quantization", 256)
        sequences = {s: [(t, encode(kind, a, quant)) for t, a in audio.splits[s]] for s in ("train", "val")}
        train_batches = SegmentBatches(kind, sequences["train"], params.segment_samples, params.batch_size,
                                       params.steps_per_epoch, run.spec.seed, setup.conditioned, quantization=quant,
                                       initial_epoch=run.dir.initial_epoch)
        val_batches = SegmentBatches(kind, sequences["val"], params.segment_samples, params.batch_size,
                                     max(2, params.steps_per_epoch // 10), run.spec.seed + 1, setup.conditioned,
                                     fixed=True, quantization=quant)
        callbacks = []  # they write files: the chief's alone
        if sample_every and dist.chief:
            callbacks.append(SampleWriter(run.dir.file("samples"), sample_every, sample_seconds, setup,
                                          params.sample_rate, run.dir.initial_epoch * params.steps_per_epoch))
        if setup.conditioned and dist.chief:
            callbacks.append(EmbeddingLog(run.dir.file("embeddings")))
        model = dist.fit(run.dir, dist.build(lambda: build(setup, params)), train_batches, params.epochs,
                         validation_data=val_batches, callbacks=callbacks, verbose=verbose if progress else 0)
        return run.result(model, data=audio)
