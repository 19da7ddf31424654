"""What each `lean` command says it measured: train's held-out metrics (--quick), export's held-out scores on
the run's own data (never a generated stand-in), tag's generated-corpus warning and per-file summary, and a
`lean` start-up that does not import the corpus generator."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import subprocess
import sys

import pytest

from asmr_training.model_files import load_model
from asmr_training.run_record import generated_corpus_warning
from lean.__main__ import main
from lean.budget import QUICK
from lean.cli import _run_data
from lean.data import load_data
from lean.evaluate import evaluate
from lean.params import LeanParams
from lean.scoring import KerasScorer, TfliteScorer
from lean.tag import format_summary, summarize

QUICK_TRAIN = ["train", "--quick", "--variant", "yamnet_frozen", "--batch-size", "8"]


@pytest.fixture(scope="module")
def folder_run(small_layout, untrained_yamnet, tmp_path_factory):
    """A --quick run on a copy of the small generated trigger folders (single-label), and what train printed."""
    root = tmp_path_factory.mktemp("own") / "deepasmr"
    shutil.copytree(small_layout("deepasmr"), root)
    run = tmp_path_factory.mktemp("runs") / "folder"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main([*QUICK_TRAIN, "--data", str(root), "--yamnet", untrained_yamnet, "--out", str(run)]) == 0
    return root, run, printed.getvalue().strip().splitlines()


def test_quick_train_ends_with_its_test_metrics_and_records_its_data(folder_run):
    root, run, lines = folder_run
    metrics = json.loads((run / "metrics.json").read_text())
    assert lines[-1] == f"best model: {run / 'best.keras'}"
    assert lines[-2] == (f"test accuracy: {metrics['accuracy']:.4f}   macro-F1: {metrics['macro_f1']:.4f}   "
                         f"({metrics['clips']} clips, 1 s chunk scores averaged per clip)")
    record = json.loads((run / "params.json").read_text())
    assert record["params"]["epochs"] == QUICK.epochs and record["params"]["max_patches_per_clip"] == 1
    assert record["quick"] is True and record["max_clips"] is None  # a labelled folder is not cut by file order
    assert record["root"] == str(root) and record["generated_corpus"] is True  # outside the repository: absolute
    assert record["clips"]["eval"] == metrics["clips"] > 0
    data = load_data(root, LeanParams(), splits=("eval",), progress=False)
    again = evaluate(KerasScorer(load_model(run), data.vocabulary), data.splits["eval"], LeanParams())
    assert again["accuracy"] == pytest.approx(metrics["accuracy"]) and again["mAP"] == pytest.approx(metrics["mAP"])


def test_export_scores_itself_on_the_runs_test_split_and_tag_warns_and_summarises(folder_run, tmp_path, capsys):
    root, run, _ = folder_run
    out = tmp_path / "folder.tflite"
    assert main(["export", "--model", str(run), "--out", str(out)]) == 0  # no --data: the run's own
    printed = capsys.readouterr().out.strip().splitlines()
    data = load_data(root, LeanParams(), splits=("eval",), progress=False)
    clips = data.splits["eval"]
    keras_accuracy = evaluate(KerasScorer(load_model(run), data.vocabulary), clips)["accuracy"]
    export_accuracy = evaluate(TfliteScorer(out), clips)["accuracy"]
    assert printed[-1] == (f"held-out (test, {len(clips)} clips): Keras accuracy {keras_accuracy:.4f}, TFLite none "
                           f"{export_accuracy:.4f} ({export_accuracy - keras_accuracy:+.4f})")

    wav = sorted(root.rglob("*.wav"))[0]
    assert main(["tag", str(wav), "--model", str(out), "--top", "2", "--no-tags", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[0] == generated_corpus_warning(out)  # the export's metadata says so
    tagged = json.loads(captured.out)
    assert tagged["summary"] == summarize(tagged["windows"]) and tagged["summary"]["windows"] == len(tagged["windows"])
    assert main(["tag", str(wav), "--model", str(run), "--top", "1", "--no-tags"]) == 0  # the run's params.json
    captured = capsys.readouterr()
    assert generated_corpus_warning(run) in captured.err
    assert captured.out.strip().splitlines()[-1].startswith(f"summary ({len(tagged['windows'])} windows): top-1 ")


def test_int8_export_calibrates_on_the_runs_training_split_and_never_generates_one(folder_run, tmp_path, capsys):
    root, run, _ = folder_run
    record = json.loads((run / "params.json").read_text())
    args = argparse.Namespace(model=run, data=None, quantize="int8", eval_clips=200, test_fold=None, val_fold=None,
                              label_depth=None, group_by=None, esc10=False)
    data = _run_data(args, record, LeanParams())
    trained = load_data(root, LeanParams(), splits=("train", "eval"), progress=False)
    assert data.splits["train"].paths == trained.splits["train"].paths
    assert data.splits["eval"].paths == trained.splits["eval"].paths
    capsys.readouterr()
    moved = root.with_name("moved")
    root.rename(moved)
    try:
        code = main(["export", "--model", str(run), "--quantize", "int8", "--out", str(tmp_path / "x.tflite")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and err == [f"error: --model {run}: its training data {root} is gone; pass --data"]
        assert not (tmp_path / "x.tflite").exists()
        from audioprep.paths import data_root

        assert not (data_root() / "fsd50k").exists()  # no default corpus generated in its place
        assert main(["export", "--model", str(run), "--out", str(tmp_path / "float.tflite")]) == 0  # float: no data needed
        assert "held-out scores skipped: --model" in capsys.readouterr().err
    finally:
        moved.rename(root)


def test_fsd50k_quick_train_ends_with_its_eval_map(small_layout, untrained_yamnet, tmp_path, capsys):
    run = tmp_path / "fsd"
    args = [*QUICK_TRAIN, "--data", str(small_layout("fsd50k")), "--yamnet", untrained_yamnet, "--out", str(run)]
    assert main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["split"] == "eval" and "accuracy" not in metrics  # multi-label
    assert lines[-2] == (f"eval mAP: {metrics['mAP']:.4f}   mAUC: {metrics['mAUC']:.4f}   d-prime: "
                         f"{metrics['dprime']:.3f}   ({metrics['clips']} clips, 1 s chunk scores averaged per clip, "
                         f"{metrics['classes_scored']} classes scored)")
    assert json.loads((run / "params.json").read_text())["max_clips"] == QUICK.max_clips


def test_the_summary_counts_top_labels_and_abstained_windows():
    def row(verdict, top):
        return {"label": verdict, "labels": [{"label": top, "score": 0.5}]}

    rows = [row("rain", "rain"), row("rain", "rain"), row("other", "wind"), row("silent", "rain"), row("wind", "wind")]
    summary = summarize(rows, most=1)
    assert summary == {"windows": 5, "top": [{"label": "rain", "windows": 2, "share": 0.4}], "other": 1, "silent": 1}
    assert format_summary(summary) == "summary (5 windows): top-1 rain 40% (2); windows other 1 (20%), silent 1 (20%)"


def test_lean_starts_without_the_corpus_generator():
    code = "import sys, lean.__main__, lean.cli; print(sorted(m for m in ('asmr_corpus', 'tensorflow') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr
