"""The YAMNet transfer family end to end on the small generated corpora: real YAMNet embeddings cached by file
content, a converged head, best.keras as the whole waveform model read by predict and the catalogue, ESC-50 and
ASMR-vs-speech folders, an int8 export that MediaPipe's AudioClassifier runs, and its refusals' hints run as printed."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from mediapipe_fixtures import clip_results, op_input_types
from refusal_hints import run_until_done

from asmr_classify import catalog, yamnet_head
from asmr_classify.__main__ import main as cli
from asmr_classify.embeddings import EmbeddingCache
from asmr_classify.params import YamnetHeadParams
from asmr_classify.predict import classify_file, load_classifier
from asmr_tflite.model import TfliteModel
from audioprep.io import file_sha256, load_audio
from audioprep.slices import SliceSet
from lean.yamnet_weights import weights_source

RATE, WINDOW, HOP = 16000, 15600, 7680


def _record(run) -> dict:
    return json.loads((run / "params.json").read_text())


def _metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text())


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    """A data root of the module's own, so the first training finds no cached embedding whatever ran before."""
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("yamnet_data_root")
        mp.setenv("ASMR_TOOLKIT_DATA", str(root))
        yield root


@pytest.fixture(scope="module")
def run(small_layout, cache_root, tmp_path_factory):
    """`train --model yamnet` on the small DeepASMR layout (9 labels x 4 sessions), and what it printed."""
    root = small_layout("deepasmr")
    out = tmp_path_factory.mktemp("yamnet_runs") / "first"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli(["train", "--model", "yamnet", "--data", str(root), "--out", str(out)]) == 0
    return out, root, printed.getvalue()


def test_the_run_records_the_real_weights_and_embeds_every_file_once(run, cache_root):
    out, root, printed = run
    record = _record(out)
    bundled = Path(weights_source(None).location).resolve()
    shown = bundled.relative_to(Path(__file__).resolve().parents[2]).as_posix()  # e.g. asmr_audioset/assets/yamnet.tflite
    assert record["yamnet"] == {"weights": f"bundled {shown}", "sha256": file_sha256(bundled)}
    assert (record["kind"], record["window_samples"], record["sample_rate"]) == ("audio", WINDOW, RATE)
    assert record["model"] == "yamnet" and len(record["classes"]) == 9
    assert record["embedded_files"] == len(list(root.rglob("*.wav"))) == 36
    assert len(list((cache_root / "cache" / "yamnet").glob("*.npz"))) == 36
    assert record["head"]["solver"] == "lbfgs" and record["head"]["converged"]
    metrics = _metrics(out)
    assert f"test accuracy: {metrics['accuracy']:.4f}" in printed and "head: lbfgs converged" in printed
    assert metrics["accuracy"] > 0.5 and metrics["clip"]["accuracy"] > 0.5  # chance is 1/9


def test_best_keras_is_yamnet_then_the_head_on_raw_windows(run):
    out, root, _ = run
    clf = load_classifier(out)
    assert (clf.kind, clf.window_samples, clf.sample_rate) == ("audio", WINDOW, RATE) and clf.embedder is not None
    wav = sorted(root.rglob("*.wav"))[0]
    audio = load_audio(wav, RATE)[0]
    windows = np.stack([audio[i * HOP : i * HOP + WINDOW] for i in range(3)])
    probs, embeddings = clf.embedder.predict_on_batch(windows)
    embed = EmbeddingCache()
    cached = embed.embeddings(wav, audio)[:3]
    assert embed.computed == 0  # read back from the cache, not recomputed
    np.testing.assert_allclose(embeddings, cached, atol=1e-4)
    assert probs.shape == (3, 9) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_a_second_pass_reads_the_cache_without_decoding_a_file(run, monkeypatch):
    import audioprep.slices
    from asmr_classify.data import embedding_corpus

    _, root, _ = run
    first = embedding_corpus(root, EmbeddingCache())  # the run embedded every file: all cached

    def no_decoding(*args, **kwargs):
        raise AssertionError("a cached file was decoded")

    monkeypatch.setattr(audioprep.slices, "load_examples", no_decoding)
    embed = EmbeddingCache()
    second = embedding_corpus(root, embed)
    assert embed.computed == 0
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(first.splits[part].x, second.splits[part].x)
        assert first.splits[part].files == second.splits[part].files and len(second.splits[part].x) > 0


def _separable(n: int, classes: int, seed: int) -> SliceSet:
    """`n` embeddings per class around a class centre of their own (YAMNet-like: non-negative, 1024-d)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).uniform(0, 1, (classes, 1024))
    y = np.repeat(np.arange(classes), n)
    x = np.maximum(centres[y] + rng.normal(0, 0.8, (len(y), 1024)), 0).astype(np.float32)
    names = [f"c{i}" for i in range(classes)]
    return SliceSet(x, y, [f"s{i}" for i in range(len(y))], names, [f"f{i}" for i in range(len(y))])


def test_the_softmax_head_is_converged_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    train, params = _separable(30, 2, 0), YamnetHeadParams()
    head = yamnet_head.build_head(2, params)
    fit = yamnet_head.fit_head(head, train, _separable(0, 2, 1), train.classes, params)
    assert (fit.solver, fit.converged, fit.history) == ("lbfgs", True, []) and fit.steps < params.epochs
    reference = LogisticRegression(C=1 / (params.l2 * len(train)), max_iter=10 * params.epochs).fit(train.x, train.y)
    np.testing.assert_allclose(head.predict_on_batch(train.x), reference.predict_proba(train.x), atol=1e-5)


def test_a_hidden_layer_trains_with_adam_until_the_validation_loss_stops_improving():
    keras.utils.set_random_seed(0)
    train, val = _separable(20, 3, 0), _separable(10, 3, 1)
    params = YamnetHeadParams(hidden_units=8, patience=2, epochs=200, batch_size=64, learning_rate=1e-2)
    head = yamnet_head.build_head(3, params)
    fit = yamnet_head.fit_head(head, train, val, train.classes, params, verbose=0)
    assert fit.solver == "adam" and fit.converged and len(fit.history) == fit.steps < params.epochs
    losses = [row["val_loss"] for row in fit.history]
    assert fit.best_epoch == int(np.argmin(losses)) == fit.steps - 1 - params.patience
    kept = head.evaluate(val.x, val.y, verbose=0)[0]  # the head ends with the best epoch's weights
    assert kept == pytest.approx(losses[fit.best_epoch], abs=1e-5)


def test_refusals_hints_lead_to_a_second_run_that_embeds_nothing_and_ends_the_same(run, capsys, tmp_path):
    out, root, _ = run
    argv = ["train", "--model", "yamnet", "--data", str(root), "--out", str(tmp_path / "again"), "--quiet",
            "--filters", "8", "--resume", "--strategy", "mirrored", "--mixed-precision"]
    refusals, done = run_until_done(cli, argv, capsys, tmp_path)
    assert [r.split(":")[1].strip() for r in refusals] == ["--filters", "--resume", "--strategy mirrored",
                                                           "--mixed-precision"]
    again = tmp_path / "again-afresh"
    assert done[done.index("--out") + 1] == str(again)
    assert _record(again)["embedded_files"] == 0
    assert _metrics(again) == _metrics(out)


def test_predict_and_the_catalogue_read_it_as_any_classifier(run, tmp_path):
    out, root, _ = run
    wav = sorted((root / "mukbang").glob("*.wav"))[0]
    result = classify_file(load_classifier(out), wav, tags=0)
    assert result.label in _record(out)["classes"] + ["other"] and len(result.windows) > 5
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(wav, folder / wav.name)
    db = tmp_path / "catalog.sqlite"
    assert cli(["catalog", str(folder), "--model", str(out), "--db", str(db)]) == 0
    assert {row[0] for row in catalog.query(db)} == {str((folder / wav.name).resolve())}


def test_esc50_through_its_adapter_and_its_refusals(small_layout, cache_root, capsys, tmp_path):
    esc = small_layout("esc50")
    data = tmp_path / "esc50"
    (data / "meta").mkdir(parents=True)
    (data / "audio").symlink_to(esc / "audio", target_is_directory=True)
    shutil.copy(esc / "meta" / "esc50.csv", data / "meta" / "esc50.csv")
    (data / "sources.csv").write_text("file,source\naudio/" + sorted((esc / "audio").iterdir())[0].name + ",x\n")
    argv = ["train", "--model", "yamnet", "--data", str(data), "--out", str(tmp_path / "run"), "--quiet",
            "--group-by", r"^\d+-(\d+)-"]
    refusals, _ = run_until_done(cli, argv, capsys, tmp_path)
    assert "published folds" in refusals[0] and refusals[1].startswith(f"error: {data / 'sources.csv'}")
    assert len(refusals) == 2 and not (data / "sources.csv").exists()
    record = _record(tmp_path / "run")
    assert record["test_fold"] is None and record["counts"]["val"] == [0] * len(record["classes"])
    assert 0.0 <= _metrics(tmp_path / "run")["accuracy"] <= 1.0


def test_asmr_versus_speech_from_plain_folders(small_layout, cache_root, capsys, tmp_path):
    data = tmp_path / "folders"
    for label, files in (("whispers", small_layout("asmr85").glob("*.wav")),
                         ("podcasts", small_layout("commonvoice").glob("clips/*.mp3"))):
        (data / label).mkdir(parents=True)
        for file in files:
            (data / label / file.name).symlink_to(file)
    out = tmp_path / "run"
    assert cli(["train", "--model", "yamnet", "--data", str(data), "--positive", "whispers", "--out", str(out),
                "--quiet"]) == 0
    record = _record(out)
    assert record["classes"] == ["asmr", "speech"] and record["positive"] == "whispers"
    assert sum(record["clips"].values()) == 4 + 12  # every recording of both folders, split by source


def test_int8_export_prints_its_accuracy_beside_keras_and_runs_in_mediapipe(run, tmp_path, capsys):
    out, root, _ = run
    path = tmp_path / "yamnet_int8.tflite"
    capsys.readouterr()
    assert cli(["export", "--model", str(out), "--quantize", "int8", "--out", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test_windows"] > 0 and abs(report["tflite_accuracy"] - report["keras_accuracy"]) <= 0.1
    types = op_input_types(path)  # YAMNet's log-mel stays float, its convolutions are int8
    assert types["RFFT2D"] == types["LOG"] == np.float32 and types["CONV_2D"] == np.int8
    assert path.stat().st_size < 5e6  # the float export is 12.8 MB
    audio = load_audio(sorted(root.rglob("*.wav"))[-1], RATE)[0][: 3 * WINDOW].astype(np.float32)
    ours = TfliteModel(path)(audio.reshape(3, WINDOW))
    got = clip_results(path, audio, RATE)
    assert [t for t, _, _ in got] == [0, 975, 1950]
    assert [label for _, label, _ in got] == [_record(out)["classes"][i] for i in ours.argmax(axis=1)]
    np.testing.assert_allclose([s for _, _, s in got], ours.max(axis=1), atol=1e-3)
