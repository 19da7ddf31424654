"""Splits that can be trusted and scores per clip: degenerate splits refused (or run with a warning beside
every number), short recordings padded and named, clip-level accuracy, and the honest defaults of
`predict` and `catalog query`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asmr_classify.__main__ import main as classify_main
from asmr_classify.data import generated_data
from asmr_classify.report import clip_metrics, clip_scores, format_metrics, mean_std
from audioprep.datasets import Example
from audioprep.errors import UsageError
from audioprep.io import write_audio
from audioprep.slices import SliceSet, build_sets, check_split, clips, split_problems

SR = 22050


def noise(seconds: float, seed: int) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def sets(per_split: dict[str, list[int]], classes=("a", "b", "c")) -> dict[str, SliceSet]:
    return {s: SliceSet(np.zeros((len(y), 1), np.float32), np.asarray(y, np.int64), [f"r{i}" for i in y], list(classes),
                        [f"f{i}" for i in y]) for s, y in per_split.items()}


def test_degenerate_splits_are_named_and_refused_unless_allowed():
    sound = sets({"train": [0, 1, 2], "val": [0, 1, 2], "test": [0, 1, 2]})
    assert split_problems(sound) == [] and check_split(sound) is None
    speech_all_in_train = sets({"train": [0, 1, 2], "val": [0, 0], "test": [0, 0, 0]})
    assert split_problems(speech_all_in_train) == [
        "no val input of b, c", "no test input of b, c", "the test set holds one class"]
    with pytest.raises(UsageError, match=r"^degenerate split: no val input of b, c; .* --allow-degenerate to run"):
        check_split(speech_all_in_train)
    assert check_split(speech_all_in_train, allow_degenerate=True).startswith("degenerate split: no val input")
    no_val_by_design = sets({"train": [0, 1, 2], "val": [], "test": [0, 1, 2]})
    assert split_problems(no_val_by_design, need_val=False) == []
    assert split_problems(no_val_by_design) == ["no val input of a, b, c"]
    assert split_problems(sets({"train": [0], "val": [0], "test": []}, ["a"]))[-1] == "the test set is empty"


def test_clip_scores_average_slice_probabilities_per_clip():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    y = np.array([0, 0, 0, 1, 1])
    files = ["x.wav", "x.wav", "x.wav", "y.wav", "z.wav"]
    truth, pred = clip_scores(probs, y, files)
    assert truth.tolist() == [0, 1, 1] and pred.tolist() == [1, 0, 1]  # x: mean (0.47, 0.53)
    result = clip_metrics(probs, y, files, ["a", "b"])
    assert result["accuracy"] == pytest.approx(1 / 3) and result["clips"] == 3 and result["support"] == [1, 2]
    assert result["macro_f1"] == pytest.approx(np.mean([0.0, 0.5]))
    assert mean_std([0.8, 0.9]) == "85.0 ± 5.0"


def test_a_warning_stands_beside_every_number():
    result = {"accuracy": 0.5, "macro_f1": 0.4, "warning": "degenerate split: x",
              "clip": {"accuracy": 1.0, "macro_f1": 1.0, "clips": 2, "support": [2, 0]},
              "per_class": {"a": {"precision": 1, "recall": 0.5, "f1": 0.6, "support": 2}}}
    lines = format_metrics(result).splitlines()
    assert lines[0] == "test accuracy: 0.5000   macro-F1: 0.4000   (2 inputs)   WARNING: degenerate split: x"
    assert lines[1].startswith("clip accuracy: 1.0000   macro-F1: 1.0000   (2 clips") and lines[1].endswith("split: x")


def test_short_recordings_are_padded_and_named_not_dropped(tmp_path, capsys):
    examples = []
    for i, seconds in enumerate((0.4, 2.0, 2.5)):
        write_audio(tmp_path / f"r{i}.wav", noise(seconds, i), SR)
        examples.append(Example(tmp_path / f"r{i}.wav", ("a",), f"s{i}"))
    built = build_sets(examples, ["a"], SR, lambda _, audio: clips(audio, SR), shape=(SR,), name="t", settings={},
                       cache=False, min_samples=lambda _: SR)
    assert sorted(len(v) for v in built.values()) == [1, 2, 2]
    short = next(v for v in built.values() if v.files == [str(tmp_path / "r0.wav")])
    np.testing.assert_allclose(short.x[0, 8820:17640], short.x[0, :8820], atol=1e-4)  # repeated, not zeros
    assert f"1 recordings shorter than one 1 s input were repeat-padded to it:\n  {tmp_path / 'r0.wav'}" in \
        capsys.readouterr().err


@pytest.fixture(scope="module")
def one_source_label(tmp_path_factory):
    """Four recordings of "asmr" and one of "speech" (one speaker): speech can only be in train."""
    root = tmp_path_factory.mktemp("lopsided") / "data"
    for i in range(4):
        write_audio(root / "asmr" / f"video{i}.wav", noise(2.2, i), SR)
    write_audio(root / "speech" / "speaker0.wav", noise(3.3, 9), SR)
    return root


@pytest.fixture(scope="module")
def allowed_run(one_source_label, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cnn1d"
    code = classify_main(["train", "--model", "cnn1d", "--data", str(one_source_label), "--out", str(out),
                          "--epochs", "1", "--allow-degenerate"])
    assert code == 0
    return out


def test_train_refuses_a_degenerate_split_in_one_line(one_source_label, tmp_path, capsys):
    out = tmp_path / "run"
    code = classify_main(["train", "--model", "cnn1d", "--data", str(one_source_label), "--out", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line or "Traceback" in line]
    assert code == 2 and len(err) == 1 and not (out / "best.keras").exists()
    assert err[0].startswith("error: degenerate split: no val input of speech; no test input of speech; "
                             "the test set holds one class")


def test_allowed_degenerate_run_warns_beside_its_numbers(allowed_run, capsys):
    metrics = json.loads((allowed_run / "metrics.json").read_text())
    params = json.loads((allowed_run / "params.json").read_text())
    assert metrics["warning"].startswith("degenerate split: no val input of speech")
    assert metrics["clip"]["clips"] == 1 and metrics["clip"]["support"] == [1, 0]
    assert params["degenerate_split"] == metrics["warning"] and params["generated_corpus"] is False
    assert params["clips"] == {"train": 3, "val": 1, "test": 1}


def test_predict_warns_about_a_generated_corpus_model(allowed_run, one_source_label, small_layout, capsys):
    wav = str(one_source_label / "speech" / "speaker0.wav")
    assert classify_main(["predict", "--model", str(allowed_run), wav]) == 0
    assert "generated corpus" not in capsys.readouterr().err
    params = json.loads((allowed_run / "params.json").read_text())
    (allowed_run / "params.json").write_text(json.dumps({**params, "generated_corpus": True}))
    try:
        assert classify_main(["predict", "--model", str(allowed_run), wav]) == 0
    finally:
        (allowed_run / "params.json").write_text(json.dumps(params))
    assert [line for line in capsys.readouterr().err.splitlines() if "generated" in line] == [
        f"warning: {allowed_run} was trained on the generated corpus: a code-path model, not a detector for real "
        "audio (train on real recordings with --data)"]
    assert generated_data(small_layout("asmr85")) and not generated_data(one_source_label)


def test_catalog_query_names_the_labels_it_holds(allowed_run, one_source_label, tmp_path, capsys):
    db = tmp_path / "cat.sqlite"
    assert classify_main(["catalog", str(one_source_label / "speech"), "--model", str(allowed_run), "--db", str(db)]) == 0
    capsys.readouterr()
    assert classify_main(["catalog", "query", "--db", str(db), "--label", "tapping"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --label tapping: not a label of this catalogue; it holds: asmr, speech")
