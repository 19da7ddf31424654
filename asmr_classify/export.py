"""`asmr_classify export`: a trained classifier as one .tflite an Android app runs, waveform in, scores out.

The feature front end (log-mel slices, or Lin's clip-mean MFCC) goes inside the model as builtin
ops (`asmr_classify.graph_front_end`), so the file takes one raw window at the model's rate, and
the class names and rate are written in as TFLite Model Metadata (MediaPipe's AudioClassifier
reads them). Conversion is `asmr_tflite.export`'s, shared with LEAN.

Given the corpus (--data, else the run's own: a labelled folder, ESC-50 or Lin's asmr85/commonvoice
parent), recordings are read and split as training read and split them (the run's params.json: read
options, --positive, split seed, folds) and cut into the model's windows: fixed windows of each
recording (one shorter than a window repeat-padded to it, as `predict` pads a short file), and for
Lin's corpus the 10 s clips of each ASMR recording and each speech clip repeat-padded to 10 s. `int8`
is calibrated on training windows spread evenly over every class's recordings, and the exported file's
test-split accuracy is printed beside the Keras model's on the same windows, one recording in memory at
a time. A YAMNet-family model keeps its own log-mel front end float in `int8`, as LEAN's export does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmr_classify.predict import Classifier, features, load_classifier, predict_batch
from asmr_tflite.export import QUANTIZE, convert, parity, write_export
from asmr_tflite.metadata import AudioModelInfo
from asmr_tflite.model import TfliteModel
from audioprep.console import bar
from audioprep.datasets import Example, load_examples, make_split
from audioprep.errors import UsageError
from audioprep.segment import repeat_pad
from audioprep.slices import FRACTIONS, clips, evenly

CALIBRATION = 200  # int8 calibration windows drawn from the training split, as evenly over the classes as it allows
DESCRIPTION = {"mel": "log-mel slices", "mfcc": "clip-mean MFCC", "audio": "raw waveform"}


@dataclass(frozen=True)
class WindowCorpus:
    """A corpus's recordings, split as training split them, and how each becomes model windows."""

    splits: dict[str, list[Example]]
    classes: list[str]
    window_samples: int
    sample_rate: int
    pad_short: frozenset[str] = frozenset()  # labels whose clips are one repeat-padded window each (Lin's speech)

    def windows(self, example: Example, audio: np.ndarray) -> np.ndarray:
        if example.label in self.pad_short:
            return repeat_pad(audio, self.window_samples)[None]
        if 0 < len(audio) < self.window_samples:
            audio = repeat_pad(audio, self.window_samples)
        return clips(audio, self.window_samples)

    def recordings(self, examples: list[Example], desc: str = "") -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(windows, labels) of each readable recording in turn (unreadable ones are skipped)."""
        for ex in bar(examples, enabled=bool(desc), desc=desc, unit="file", leave=False):
            for _, audio in load_examples([ex], sr=self.sample_rate, progress=False).loaded:
                x = self.windows(ex, audio)
                yield x, np.full(len(x), self.classes.index(ex.label))


def window_corpus(clf: Classifier, data, record: dict | None = None) -> WindowCorpus:
    """`data` (a labelled folder, ESC-50 or Lin's parent folder) read and split as the run that trained `clf`
    did (`record`: its params.json) and cut into `clf`'s windows."""
    from asmr_classify.data import LIN_CLASSES, is_lin_parent, labelled, lin_examples, trigger_root
    from audioprep.datasets import ReadOptions

    record = record or {}
    options = ReadOptions(**(record.get("read_options") or {}))
    pad_short = frozenset()
    if clf.kind in ("mfcc", "audio") and is_lin_parent(data) and not (Path(data) / "deepasmr").is_dir():
        # as `data.load_corpus` / `data.embedding_corpus` chose Lin's corpus for training
        examples, classes = lin_examples(data, options.group_by), list(LIN_CLASSES)
        pad_short = frozenset({"speech"}) if clf.kind == "mfcc" else frozenset()
    else:  # as train reads it: read options, --positive, copies merged, ESC-50 folds
        examples, classes = labelled(trigger_root(data), options, record.get("positive"))
    if classes != list(clf.classes):
        raise UsageError(f"--data {data}: classes {classes} are not the model's {list(clf.classes)}")
    split = make_split(examples, FRACTIONS, int(record.get("split_seed") or 0), record.get("test_fold"),
                       record.get("val_fold"))
    return WindowCorpus(split, classes, clf.window_samples, clf.sample_rate, pad_short)


def calibration_windows(corpus: WindowCorpus, count: int = CALIBRATION) -> np.ndarray:
    """About `count` training windows, the same number per class, spread evenly over each class's recordings."""
    per_class = -(-count // len(corpus.classes))
    out = []
    for label in corpus.classes:
        files = evenly([ex for ex in corpus.splits["train"] if ex.label == label], per_class)
        take = -(-per_class // max(1, len(files)))
        picked = [w for x, _ in corpus.recordings(files, f"calibration ({label})") for w in evenly(x, take)]
        out += picked[:per_class]
    if not out:
        raise UsageError("--quantize int8: the training split gave no windows to calibrate on")
    return np.stack(out).astype(np.float32)


def split_accuracy(corpus: WindowCorpus, scorers: dict) -> dict:
    """Test-split accuracy of each scorer ((k, window) -> (k, classes)) on the same windows."""
    right, total = dict.fromkeys(scorers, 0), 0
    for x, y in corpus.recordings(corpus.splits["test"], "test split"):
        total += len(y)
        for name, score in scorers.items():
            right[name] += int(np.sum(np.asarray(score(x)).argmax(axis=1) == y)) if len(y) else 0
    return {"test_windows": total, **{f"{name}_accuracy": right[name] / total if total else float("nan")
                                      for name in scorers}}


def export_classifier(clf: Classifier, out, quantize: str = "none", corpus: WindowCorpus | None = None,
                      name: str = "") -> dict:
    """Write `out`; report its size, ops, score parity with Keras and, given `corpus`, test accuracies."""
    from asmr_classify import yamnet_head
    from asmr_classify.graph_front_end import FRONT_END
    from asmr_classify.graph_front_end import features as graph_features

    def forward(wave):
        return clf.model(graph_features(wave, clf.kind, clf.sample_rate), training=False)

    if quantize == "int8" and corpus is None:
        raise UsageError("--quantize int8 needs training windows for calibration: give --data")
    representative = calibration_windows(corpus) if quantize == "int8" else None
    float_scope = yamnet_head.FRONT_END if yamnet_head.has_yamnet_front_end(clf.model) else FRONT_END
    flatbuffer = convert(forward, clf.window_samples, quantize, representative, float_scope=float_scope)
    info = AudioModelInfo(
        name=name or "asmr_classify classifier", labels=tuple(clf.classes), sample_rate=clf.sample_rate,
        description=f"trigger classifier on {DESCRIPTION[clf.kind]} (front end in the graph): "
                    f"{clf.window_samples} samples at {clf.sample_rate} Hz in, softmax class scores out; "
                    f"export {quantize}",
    )
    report = {**write_export(flatbuffer, out, info), "quantize": quantize}
    exported = TfliteModel(out)

    def keras_scores(windows):
        return predict_batch(clf, features(clf, windows))

    probe = (representative[:4] if representative is not None else
             np.random.default_rng(0).uniform(-0.5, 0.5, (4, clf.window_samples)).astype(np.float32))
    report.update(parity(exported, keras_scores, probe, quantize))
    if corpus is not None:
        report.update(split_accuracy(corpus, {"keras": keras_scores, "tflite": exported}))
    return report


def add_arguments(parser) -> None:
    from audioprep.cli import existing_path

    parser.add_argument("--model", required=True, type=existing_path, help="run folder or .keras file")
    parser.add_argument("--quantize", choices=QUANTIZE, default="none")
    parser.add_argument("--out", required=True, type=Path, help="the .tflite file to write")
    parser.add_argument("--data", type=existing_path,
                        help="the corpus for int8 calibration and test accuracy: a labelled folder, ESC-50 or Lin's "
                             "asmr85/commonvoice parent, read as the run read its own (default: the run's own, if "
                             "it is still there)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def _run_corpus(model_path: Path, data) -> tuple[Path | None, dict]:
    """--data, else the corpus the run was trained on if it is still there; and the run's params.json."""
    from asmr_training.model_files import resolve_model
    from asmr_training.run_dir import PARAMS
    from audioprep.files import read_json

    meta_file = resolve_model(model_path).parent / PARAMS
    meta = read_json(meta_file) if meta_file.exists() else {}
    root = data or (Path(meta["root"]) if meta.get("root") and Path(meta["root"]).is_dir() else None)
    return root, meta


def main(args) -> int:
    clf = load_classifier(args.model)
    root, record = _run_corpus(args.model, args.data)
    corpus = window_corpus(clf, root, record) if root is not None else None
    report = export_classifier(clf, args.out, args.quantize, corpus, name=getattr(clf.model, "name", ""))
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"wrote {report['path']} ({report['bytes'] / 1e6:.2f} MB, {args.quantize}), labels and rate in its metadata")
    print(f"builtin ops only: {', '.join(report['ops'])}")
    print(f"max |TFLite - Keras| score on 4 windows: {report['max_abs_diff_vs_keras']:.2e}")
    if "test_windows" in report:
        print(f"test accuracy on {report['test_windows']} windows: Keras {report['keras_accuracy']:.4f}, "
              f"exported {report['tflite_accuracy']:.4f}")
    return 0
