"""Training resumes with no epoch lost or repeated; predict and the catalogue on real files; Lin's task from plain
folders, sources named by every layout, and the refusals' hints run as printed."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from refusal_hints import follow, run_until_done
from shared_build import shared_build

from asmr_classify import catalog, predict
from asmr_classify.__main__ import main as cli
from asmr_classify.data import labelled
from asmr_classify.train import train_classifier
from asmr_training.model_files import load_model
from asmr_training.run_spec import RunSpec
from audioprep.datasets import ReadOptions, read_layout
from audioprep.io import load_audio, write_audio
from audioprep.params import MelSliceParams

SMALL = dict(filters=8, dense_units=16, batch_size=16)
SR = MelSliceParams().sample_rate


class _StopAfter(keras.callbacks.Callback):
    """Simulates a kill right after epoch `k` was checkpointed."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.k:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def run(small_layout, tmp_path_factory):
    """A deepasmr run interrupted after its 2nd epoch, then resumed to 3 epochs (once per pytest run)."""
    root = small_layout("deepasmr")

    def interrupt_and_resume(folder: Path) -> str:
        out = folder / "deepasmr"
        with pytest.raises(KeyboardInterrupt):
            train_classifier("deepasmr", RunSpec(out, root, epochs=3, max_per_file=3), callbacks=[_StopAfter(1)],
                             verbose=0, **SMALL)
        history = list(csv.DictReader((out / "history.csv").open()))
        assert [int(float(r["epoch"])) for r in history] == [0, 1]
        return str(train_classifier("deepasmr", RunSpec(out, root, resume=True, epochs=3, max_per_file=3), verbose=0,
                                    **SMALL).path)

    return Path(shared_build(tmp_path_factory, "resumed_deepasmr", interrupt_and_resume)), root


def test_resume_continues_without_losing_or_repeating_epochs(run):
    out, _ = run
    epochs = [int(float(r["epoch"])) for r in csv.DictReader((out / "history.csv").open())]
    assert epochs == [0, 1, 2]
    for name in ("best.keras", "last.keras", "params.json", "metrics.json", "confusion.png", "curves.png"):
        assert (out / name).exists(), name
    params = json.loads((out / "params.json").read_text())
    assert params["model"] == "deepasmr" and len(params["classes"]) == 9
    assert params["params"]["filters"] == 8 and params["params"]["activation"] == "elu"
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert np.asarray(metrics["confusion"]).sum() == sum(m["support"] for m in metrics["per_class"].values())


def test_resume_ends_bit_for_bit_where_an_uninterrupted_run_does(run, tmp_path):
    out, root = run
    whole = train_classifier("deepasmr", RunSpec(tmp_path / "whole", root, epochs=3, max_per_file=3), verbose=0,
                             **SMALL).path
    assert (whole / "history.csv").read_text() == (out / "history.csv").read_text()
    resumed, uninterrupted = load_model(out / "last.keras"), load_model(whole / "last.keras")
    for a, b in zip(resumed.weights, uninterrupted.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert json.loads((whole / "metrics.json").read_text()) == json.loads((out / "metrics.json").read_text())


def test_a_damaged_run_folder_is_named_in_one_line(run, tmp_path, capsys):
    out, root = run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    state = copy / "state.json"
    state.write_text(state.read_text()[:40])
    argv = ["train", "--model", "deepasmr", "--data", str(root), "--out", str(copy), "--resume", "--epochs", "4"]
    assert cli(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {state}: not valid JSON") and "afresh" in err[0]


def test_fresh_run_refuses_a_used_folder_and_resume_needs_one(run, tmp_path, capsys):
    out, root = run
    assert cli(["train", "--model", "deepasmr", "--data", str(root), "--out", str(out), "--epochs", "1"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert cli(["train", "--model", "deepasmr", "--data", str(root), "--out", str(tmp_path / "x"), "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nothing to resume" in err


@pytest.fixture(scope="module")
def files(run, tmp_path_factory):
    """Short, long, stereo 44.1 kHz, mp3 and corrupt inputs cut from one generated session."""
    _, root = run
    session = sorted((root / "fingernail tapping").glob("*.wav"))[0]
    audio, _ = load_audio(session, sr=SR)
    folder = tmp_path_factory.mktemp("inputs")
    made = {
        "short": write_audio(folder / "short.wav", audio[: SR // 3], SR),
        "long": write_audio(folder / "long.flac", audio[: 5 * SR], SR),
        "stereo": write_audio(folder / "stereo.wav", np.stack([audio[: 2 * SR]] * 2), SR),
        "mp3": write_audio(folder / "clip.mp3", audio[: 2 * SR], SR),
    }
    stereo44, _ = load_audio(made["stereo"], sr=44100, mono=False)
    write_audio(made["stereo"], stereo44, 44100)
    (folder / "corrupt.wav").write_bytes(b"RIFF....not really audio")
    made["corrupt"] = folder / "corrupt.wav"
    return made


def test_predict_short_long_stereo_mp3(run, files):
    clf = predict.load_classifier(run[0])
    short = predict.classify_file(clf, files["short"])
    assert len(short.windows) == 1 and short.windows[0].end == pytest.approx(1 / 3, abs=0.01)
    long = predict.classify_file(clf, files["long"])
    window = MelSliceParams().slice_samples / SR
    assert len(long.windows) == int(np.ceil((5.0 - window) / (window / 2))) + 1
    assert long.windows[1].start == pytest.approx(window / 2, abs=1e-3) and long.windows[-1].end == pytest.approx(5.0)
    assert long.majority in clf.classes and abs(sum(long.probabilities.values()) - 1) < 1e-4
    for key in ("stereo", "mp3"):
        result = predict.classify_file(clf, files[key])
        assert len(result.windows) == 3 and result.windows[-1].end == pytest.approx(2.0, abs=0.05)
        assert result.label in clf.classes


def test_predict_cli_reports_a_bad_file_and_runs_the_others(run, files, capsys):
    code = cli(["predict", "--model", str(run[0]), "--json", str(files["short"]), str(files["corrupt"]),
                str(files["mp3"])])
    captured = capsys.readouterr()
    assert code == 1
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["path"] for line in lines] == [str(files["short"]), str(files["mp3"])]
    assert "corrupt.wav" in captured.err and "cannot decode" in captured.err


def test_merge_windows_joins_same_label_and_cuts_overlaps():
    w = predict.Window
    merged = predict.merge_windows([w(0, 1, "a", 0.9), w(0.5, 1.5, "a", 0.7), w(1.0, 2.0, "b", 0.8)])
    assert [(m.start, m.end, m.label) for m in merged] == [(0, 1.0, "a"), (1.0, 2.0, "b")]
    assert merged[0].confidence == pytest.approx(0.8)


def test_catalog_is_idempotent_detects_changes_and_survives_interruption(run, files, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for key in ("long", "stereo", "mp3"):
        shutil.copy(files[key], folder / files[key].name)
    shutil.copy(files["corrupt"], folder / "corrupt.wav")
    db = tmp_path / "catalog.sqlite"

    real = catalog.pool.timeline_of
    calls = []

    def dies_on_second(clf, path, overlap=0.0, clock=None):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(clf, path, overlap, clock)

    monkeypatch.setattr(catalog.pool, "timeline_of", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        catalog.build_catalog(folder, run[0], db, progress=False)
    monkeypatch.setattr(catalog.pool, "timeline_of", real)
    first = catalog.query(db)
    assert {r[0] for r in first} == {str(calls[0].resolve())}  # the finished recording was kept

    counts = catalog.build_catalog(folder, run[0], db, progress=False)
    assert counts == {"added": 2, "updated": 0, "remerged": 0, "skipped": 1, "bad": 1}
    assert "corrupt.wav" in capsys.readouterr().err
    again = catalog.build_catalog(folder, run[0], db, progress=False)
    assert again == {"added": 0, "updated": 0, "remerged": 0, "skipped": 3, "bad": 1}

    audio, sr = load_audio(folder / "long.flac")
    write_audio(folder / "long.flac", audio[: 3 * sr], sr)  # the recording changed
    assert catalog.build_catalog(folder, run[0], db, progress=False)["updated"] == 1
    rows = [r for r in catalog.query(db) if r[0].endswith("long.flac")]
    assert max(r[2] for r in rows) == pytest.approx(3.0)
    for a, b in zip(rows, rows[1:], strict=False):
        assert a[3] != b[3] or a[2] <= b[1]  # merged: no two adjacent same-label segments

    label = catalog.query(db)[0][3]
    assert cli(["catalog", "query", "--db", str(db), "--label", label, "--min-confidence", "0.0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out and all(line.split("\t")[3] == label for line in out)
    assert cli(["catalog", "export", "--db", str(db), "--csv", str(tmp_path / "segments.csv")]) == 0
    exported = list(csv.DictReader((tmp_path / "segments.csv").open()))
    assert len(exported) == len(catalog.query(db)) and set(exported[0]) == {"path", "start", "end", "label", "confidence", "flags", "tags"}


def _until_done(argv: list[str], capsys, aside) -> list[str]:
    """The refusals met on the way to running `argv` (refusal_hints.run_until_done)."""
    return run_until_done(cli, argv, capsys, aside, limit=6)[0]


@pytest.fixture(scope="module")
def plain_folders(small_layout, tmp_path_factory):
    """Lin's task as plain folders: asmr/ (4 long recordings, and macro-output/ holding a tool's byte-identical
    copies of them) beside podcasts/ and audiobooks/ (6 speech clips each)."""
    root = tmp_path_factory.mktemp("plain") / "folders"
    (root / "asmr" / "macro-output").mkdir(parents=True)
    for wav in sorted(small_layout("asmr85").glob("*.wav")):
        shutil.copy(wav, root / "asmr" / wav.name)
        shutil.copy(wav, root / "asmr" / "macro-output" / wav.name)
    for i, clip in enumerate(sorted(small_layout("commonvoice").glob("clips/*.mp3"))):
        folder = root / ("podcasts" if i % 2 else "audiobooks")
        folder.mkdir(exist_ok=True)
        shutil.copy(clip, folder / clip.name)
    return root


def test_a_folder_of_copies_does_not_join_distinct_recordings(plain_folders):
    examples, classes = labelled(plain_folders, positive="asmr")
    source = {ex.path.relative_to(plain_folders).as_posix(): ex.source for ex in examples}
    assert classes == ["asmr", "speech"]
    assert len({source[f"asmr/asmr_0{i}.wav"] for i in range(1, 5)}) == 4
    assert all(source[f"asmr/macro-output/asmr_0{i}.wav"] == source[f"asmr/asmr_0{i}.wav"] for i in range(1, 5))


def test_lin_learns_asmr_versus_speech_from_plain_folders_after_its_hints(plain_folders, capsys, tmp_path):
    out = tmp_path / "lin"
    argv = ["train", "--model", "lin", "--data", str(plain_folders), "--out", str(out), "--epochs", "1",
            "--batch-size", "16", "--positive", "ASMR", "--hidden-units", "8"]
    refusals = _until_done(argv, capsys, tmp_path)
    assert [r.split(":")[1].strip() for r in refusals] == ["--hidden-units", "--positive ASMR"]
    record = json.loads((out / "params.json").read_text())
    assert (record["model"], record["classes"], record["positive"]) == ("lin_conv1d", ["asmr", "speech"], "asmr")
    assert (record["kind"], record["window_samples"]) == ("mfcc", 220500)  # Lin's 10 s clips
    # files per split: the 4 ASMR recordings (2 files each, with their copy) 2/1/1, the 12 speech clips 8/2/2
    assert record["clips"] == {"train": 12, "val": 4, "test": 4}


def test_a_slice_classifier_refuses_positive_and_lins_corpus_with_hints(plain_folders, small_layout, capsys, tmp_path):
    argv = ["train", "--model", "cnn1d", "--data", str(plain_folders), "--out", str(tmp_path / "cnn"), "--epochs", "1",
            "--max-slices-per-file", "2", "--filters", "4", "--positive", "asmr"]
    assert len(_until_done(argv, capsys, tmp_path)) == 1  # drop --positive: three classes of their own
    assert json.loads((tmp_path / "cnn" / "params.json").read_text())["classes"] == ["asmr", "audiobooks", "podcasts"]
    parent = tmp_path / "lin_parent"
    parent.mkdir()
    for layout in ("asmr85", "commonvoice"):
        (parent / layout).symlink_to(small_layout(layout), target_is_directory=True)
    argv = ["train", "--model", "cnn1d", "--data", str(parent), "--out", str(tmp_path / "lin"), "--epochs", "1",
            "--batch-size", "16", "--label-depth", "1", "--test-fold", "2"]
    refusals = _until_done(argv, capsys, tmp_path)
    assert refusals[0].endswith("use --model lin_conv1d") and refusals[1].endswith("drop --label-depth and --test-fold")
    assert json.loads((tmp_path / "lin" / "params.json").read_text())["model"] == "lin_conv1d"


def test_group_by_and_sources_csv_name_the_sources_of_flat_layouts(small_layout, tmp_path):
    folder = tmp_path / "asmr85"
    shutil.copytree(small_layout("asmr85"), folder)
    assert {ex.source for ex in read_layout(folder, "asmr85", ReadOptions(group_by=r"^(asmr)_"))} == {"asmr"}
    (folder / "sources.csv").write_text("file,source\nasmr_01.wav,session-a\nasmr_02.wav,session-a\n")
    sources = [ex.source for ex in read_layout(folder, "asmr85")]
    assert sources == ["session-a", "session-a", "asmr85/asmr_03", "asmr85/asmr_04"]


def test_layouts_split_as_published_refuse_regrouping_with_a_hint(small_layout, capsys, tmp_path):
    from audioprep.__main__ import main as audioprep_cli

    argv = ["inspect", str(small_layout("fsd50k")), "--group-by", r"^(\d+)"]
    assert audioprep_cli(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "published dev/eval splits" in err
    assert audioprep_cli(follow(argv, err, tmp_path)) == 0
