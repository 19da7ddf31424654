"""`asmr_classify export`: a trained classifier as one .tflite an Android app runs, waveform in, scores out.

The feature front end (log-mel slices, or Lin's clip-mean MFCC) goes inside the model as builtin
ops (`asmr_classify.graph_front_end`), so the file takes one raw window at the model's rate, and
the class names and rate are written in as TFLite Model Metadata (MediaPipe's AudioClassifier
reads them). Conversion is `audioprep.tflite_export`'s, shared with LEAN. With a trigger-folder
corpus (--data, else the run's own), `int8` is calibrated on training windows and the exported
file's test-split accuracy is printed beside the Keras model's on the same windows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from asmr_classify.predict import Classifier, features, load_classifier, predict_proba
from audioprep.errors import UsageError
from audioprep.tflite_export import QUANTIZE, convert, parity, write_export
from audioprep.tflite_metadata import AudioModelInfo
from audioprep.tflite_model import TfliteModel

CALIBRATION = 200  # int8 calibration windows drawn from the training split
DESCRIPTION = {"mel": "log-mel slices", "mfcc": "clip-mean MFCC", "audio": "raw waveform"}


def raw_windows(clf: Classifier, data, split_seed: int = 0) -> dict:
    """{"train","val","test"} raw audio windows of a trigger-folder corpus, split as training split it."""
    from asmr_classify.data import is_lin_parent, trigger_root
    from audioprep.slices import audio_slice_sets

    if is_lin_parent(data) and not (Path(data) / "deepasmr").is_dir():
        raise UsageError(f"--data {data}: Lin's asmr85/commonvoice corpus holds no fixed windows; "
                         "calibrate and score on a trigger-folder corpus")
    sets = audio_slice_sets(trigger_root(data), clf.sample_rate, clf.window_samples / clf.sample_rate, seed=split_seed)
    if sets["train"].classes != clf.classes:
        raise UsageError(f"--data {data}: classes {sets['train'].classes} are not the model's {clf.classes}")
    return sets


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(scores.argmax(axis=1) == labels)) if len(labels) else float("nan")


def export_classifier(clf: Classifier, out, quantize: str = "none", sets: dict | None = None, name: str = "") -> dict:
    """Write `out`; report its size, ops, score parity with Keras and, given `sets`, test accuracies."""
    from asmr_classify.graph_front_end import FRONT_END
    from asmr_classify.graph_front_end import features as graph_features

    def forward(wave):
        return clf.model(graph_features(wave, clf.kind, clf.sample_rate), training=False)

    representative = None
    if quantize == "int8":
        if sets is None:
            raise UsageError("--quantize int8 needs training windows for calibration: give --data")
        train = sets["train"].x
        representative = train[np.random.default_rng(0).permutation(len(train))[:CALIBRATION]]
    flatbuffer = convert(forward, clf.window_samples, quantize, representative, float_scope=FRONT_END)
    info = AudioModelInfo(
        name=name or "asmr_classify classifier", labels=tuple(clf.classes), sample_rate=clf.sample_rate,
        description=f"trigger classifier on {DESCRIPTION[clf.kind]} (front end in the graph): "
                    f"{clf.window_samples} samples at {clf.sample_rate} Hz in, softmax class scores out; "
                    f"export {quantize}",
    )
    report = {**write_export(flatbuffer, out, info), "quantize": quantize}
    exported = TfliteModel(out)

    def keras_scores(windows):
        return predict_proba(clf, features(clf, windows))

    probe = (sets["test"].x[:4] if sets and len(sets["test"]) else
             np.random.default_rng(0).uniform(-0.5, 0.5, (4, clf.window_samples)).astype(np.float32))
    report.update(parity(exported, keras_scores, probe, quantize))
    if sets is not None:
        test = sets["test"]
        report["test_windows"] = len(test)
        report["keras_accuracy"] = accuracy(keras_scores(test.x), test.y)
        report["tflite_accuracy"] = accuracy(exported(test.x), test.y)
    return report


def add_arguments(parser) -> None:
    from audioprep.cli import existing_path

    parser.add_argument("--model", required=True, type=existing_path, help="run folder or .keras file")
    parser.add_argument("--quantize", choices=QUANTIZE, default="none")
    parser.add_argument("--out", required=True, type=Path, help="the .tflite file to write")
    parser.add_argument("--data", type=existing_path,
                        help="trigger-folder corpus for int8 calibration and test accuracy (default: the run's own)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def _corpus_root(model_path: Path, data) -> tuple[Path | None, int]:
    """--data, else the corpus the run was trained on if it is still there; and the run's split seed."""
    from audioprep.runs import PARAMS, resolve_model

    meta_file = resolve_model(model_path).parent / PARAMS
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    root = data or (Path(meta["root"]) if meta.get("root") and Path(meta["root"]).is_dir() else None)
    return root, int(meta.get("split_seed", 0))


def main(args) -> int:
    from asmr_classify.data import is_lin_parent

    clf = load_classifier(args.model)
    root, split_seed = _corpus_root(args.model, args.data)
    if root is not None and args.data is None and is_lin_parent(root):
        root = None  # Lin's own corpus: no fixed windows to score, nothing to calibrate on
    sets = raw_windows(clf, root, split_seed) if root is not None else None
    report = export_classifier(clf, args.out, args.quantize, sets, name=getattr(clf.model, "name", ""))
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
