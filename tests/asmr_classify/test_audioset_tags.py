"""YAMNet's AudioSet tags everywhere, and "none of these": the bundled interpreter's tags on known sounds,
a span's tags from a track, streamed tracks in bounded memory, tags beside any model in predict, lean tag
and the catalogue (stored, searched as text, kept by a re-merge, migrated from format 3), the abstain
threshold (`other`) and its calibration, and silent windows never stored as a confident trigger."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from asmr_audioset import abstain
from asmr_audioset import lite_yamnet as audioset
from asmr_audioset.lite_yamnet import TAG_NET_TFLITE, Tag, TagTrack, class_names, network_id, track_of
from asmr_audioset.params import ABSTAIN
from asmr_classify import catalog, predict, shared_decode
from asmr_classify.__main__ import main as cli
from asmr_classify.speech_detector import model_id
from asmr_corpus.asmr85 import TRIGGERS
from audioprep.io import load_audio, write_audio
from audioprep.segment import sliding_windows
from lean.tag import format_rows, tag_file

SR = 16000
SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech_espeak.wav"


# A recording's noise floor, -70 dBFS: the tag pass's float front end hears a digital sine written to 16-bit PCM
# through its quantisation floor (Music 0.35, Sine wave 0.30 measured), as YAMNet's own front end does.
FLOOR = 10 ** (-70 / 20)


def tone(hz: float, seconds: float = 2.0, level: float = 0.5, floor: float = 0.0) -> np.ndarray:
    """A sine, with `floor` x seeded white noise under it."""
    n = int(seconds * SR)
    noise = floor * np.random.default_rng(int(hz)).standard_normal(n)
    return (level * np.sin(2 * np.pi * hz * np.arange(n) / SR) + noise).astype(np.float32)


def test_the_bundled_yamnet_and_its_class_map_are_the_ones_lean_loads():
    from lean.yamnet_weights import weights_source

    assert weights_source(None).location == str(audioset.YAMNET_TFLITE) and audioset.YAMNET_TFLITE.is_file()
    names = class_names()
    assert len(names) == 521 and names[0] == "Speech" and names[audioset.class_index("Whispering")] == "Whispering"


def test_tags_of_known_sounds(tmp_path):
    """Measured, over a -70 dBFS floor: a 250 Hz sine is YAMNet's Sine wave (0.66 as a file); at 440 Hz it is
    Telephone, Busy signal, Dial tone (the dial tone's own pitch); digital silence is Silence."""
    clf = predict.Classifier(UniformModel(3), ["a", "b", "c"], "audio", 16000, SR)
    tags = {}
    for name, audio in (("sine250", tone(250, floor=FLOOR)), ("sine440", tone(440, floor=FLOOR)),
                        ("zeros", np.zeros(2 * SR, np.float32))):
        result = predict.classify_file(clf, write_audio(tmp_path / f"{name}.wav", audio, SR))
        tags[name] = [t.label for t in result.tags]
    assert tags["sine250"][0] == "Sine wave"
    assert tags["sine440"] == ["Telephone", "Busy signal", "Dial tone"]
    assert tags["zeros"] == ["Silence"]


def test_the_interpreter_gives_scores_and_embeddings_window_by_window():
    windows = np.stack([tone(250, 0.975), tone(1000, 0.975), np.zeros(15600, np.float32)])
    scores, embeddings = audioset.yamnet()(windows)
    assert scores.shape == (3, 521) and embeddings.shape == (3, 1024) and np.isfinite(embeddings).all()
    again, _ = audioset.yamnet()(windows[::-1])
    np.testing.assert_array_equal(again[::-1], scores)  # a window's scores do not depend on the one before
    assert scores[0].argmax() == audioset.class_index("Sine wave")
    assert scores[2].argmax() == audioset.class_index("Silence")


def test_a_span_s_tags_are_its_windows_kept_scores_weighted_by_overlap():
    track = TagTrack(np.array([[0, 1], [1, 2]], np.uint16), np.array([[0.8, 0.2], [0.5, 0.4]], np.float16), 15600)
    names = class_names()
    first = track.tags(0.0, 0.975, 3)
    assert [t.label for t in first] == [names[0], names[1]]
    assert [t.score for t in first] == pytest.approx([0.8, 0.2], abs=1e-3)
    middle = track.tags(0.4875, 1.4625, 3)  # half of each window
    assert [t.label for t in middle] == [names[0], names[1], names[2]]
    assert [t.score for t in middle] == pytest.approx([0.4, 0.35, 0.2], abs=1e-3)
    assert track.tags(0.0, 0.975, 0) == [] and TagTrack.of([], 15600).tags(0.0, 1.0) == []


def test_a_track_streams_the_whole_file_s_windows_in_bounded_memory(tmp_path):
    """The track equals the whole file's windows scored at once; an eight-minute file's pipeline holds a few
    batches (18.8 MB measured at 4, 8 and 12 minutes), not the 30.7 MB of its decoded samples."""
    speech, _ = load_audio(SPEECH, sr=SR)
    path = write_audio(tmp_path / "forty.wav", np.tile(speech, 14)[: 40 * SR], 44100)
    audio, _ = load_audio(path, sr=SR)
    track = track_of(path)
    expected = audioset.top_classes(audioset.tag_net()(sliding_windows(audio, 15600, 0.0)))
    np.testing.assert_array_equal(track.index, expected[0])
    np.testing.assert_array_equal(track.score, expected[1])
    samples = 8 * 60 * SR
    long = write_audio(tmp_path / "eight_minutes.wav", np.tile(speech, 170)[:samples], SR)
    tracemalloc.start()
    try:
        assert len(track_of(long).index) == -(-(samples - 15600) // 15600) + 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.65 * samples * 4, peak


class UniformModel:
    """Every class equally likely: a model that knows none of these sounds."""

    def __init__(self, classes: int):
        self.classes = classes

    def predict_on_batch(self, x):
        return np.full((len(x), self.classes), 1 / self.classes, np.float32)


def test_a_model_that_knows_none_of_these_says_other_and_silence_is_silent(tmp_path, capsys):
    audio = np.concatenate([tone(250, 3.0, floor=FLOOR), np.zeros(2 * SR, np.float32)])
    path = write_audio(tmp_path / "tone_then_silence.wav", audio, SR)
    clf = predict.Classifier(UniformModel(4), list("abcd"), "audio", 16000, SR, abstain=ABSTAIN.default_threshold)
    result = predict.classify_file(clf, path, overlap=0.0)
    assert [w.label for w in result.windows] == ["other", "other", "other", "silent", "silent"]
    assert result.label == "other" and result.majority == "other"
    assert result.windows[0].tags[0].label == "Sine wave" and result.windows[-1].tags[0].label == "Silence"
    assert predict.format_result(result).startswith(f"{path}: other (0.250)")
    assert predict.classify_file(clf, path, overlap=0.0, tags=0).windows[0].tags == []


def test_without_tags_no_yamnet_pass_runs_beside_a_model(tmp_path, monkeypatch):
    path = write_audio(tmp_path / "tone.wav", tone(250), SR)
    clf = predict.Classifier(UniformModel(2), ["a", "b"], "audio", 16000, SR)

    def no_pass(*args, **kwargs):
        raise AssertionError("--no-tags runs no YAMNet")

    monkeypatch.setattr(shared_decode, "TagFeed", no_pass)
    result = predict.classify_file(clf, path, tags=0)
    assert result.tags == [] and all(w.tags == [] for w in result.windows)


def test_the_abstain_threshold_is_calibrated_on_validation_windows_and_read_back(tmp_path):
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.45, 0.55], [0.6, 0.4], [0.2, 0.8]])
    labels = np.array([0, 0, 1, 1, 1, 1])  # window 4 is wrong; the right ones' tops: .9 .8 .7 .55 .8
    assert abstain.calibrate(probs, labels, keep=0.8) == 0.7  # keeps 4 of the 5 right ones
    assert abstain.calibrate(probs, np.eye(2)[labels], keep=1.0) == 0.55
    assert abstain.calibrate(probs, np.ones((6, 2)), keep=1.0) == 0.55  # multi-label: every top is a label
    assert abstain.calibrate(probs, 1 - probs.argmax(axis=1)) == ABSTAIN.default_threshold  # nothing right to keep
    record = abstain.calibration(probs, labels, keep=0.8)
    assert record["abstain_threshold"] == 0.7 and record["abstain_kept_share"] == pytest.approx(4 / 6)
    assert record["abstain_kept_accuracy"] == 1.0
    run = tmp_path / "run"
    run.mkdir()
    assert abstain.stored_threshold(run) == ABSTAIN.default_threshold  # no params.json: the default
    (run / "params.json").write_text(json.dumps(record))
    assert abstain.stored_threshold(run) == abstain.stored_threshold(run / "best.keras") == 0.7
    assert abstain.stored_threshold(tmp_path / "model.tflite") == ABSTAIN.default_threshold


@pytest.fixture(scope="module")
def detected(tmp_path_factory):
    """A catalogue by the detector (no --model) of espeak speech, a generated crinkling trigger and silence."""
    folder = tmp_path_factory.mktemp("detected")
    shutil.copy(SPEECH, folder / "speech.wav")
    crinkle = TRIGGERS["crinkling"](np.random.default_rng(0), 3 * SR, SR)
    write_audio(folder / "crinkling.wav", 0.3 * crinkle / np.abs(crinkle).max(), SR)
    write_audio(folder / "zeros.wav", np.zeros(2 * SR, np.float32), SR)
    db = folder / "catalog.sqlite"
    assert catalog.build_catalog(folder, None, db, progress=False)["added"] == 3
    return folder, db


def test_the_catalogue_stores_tags_per_segment_and_finds_them_as_text(detected, capsys):
    folder, db = detected
    by_file = {Path(hit.path).name: hit for hit in catalog.query(db)}
    assert (by_file["speech.wav"].label, by_file["crinkling.wav"].label) == ("speech", "asmr")
    assert by_file["speech.wav"].tags[0] == Tag("Speech", pytest.approx(0.98, abs=0.01))
    assert len(by_file["speech.wav"].tags) == 5
    assert {Path(h.path).name for h in catalog.query(db, tag="speech")} == {"speech.wav"}
    assert {Path(h.path).name for h in catalog.query(db, tag="SILENCE")} == {"zeros.wav"}
    assert catalog.query(db, tag="100%") == []  # % is literal text, no wildcard
    assert cli(["catalog", "query", "--db", str(db), "--tag", "rattle"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    path, _, _, label, _, flags, tags = line.split("\t")
    assert (Path(path).name, label, flags) == ("crinkling.wav", "asmr", "-") and "Rattle" in tags
    assert "speech" in catalog.labels(db) and "silent" in catalog.labels(db)
    with sqlite3.connect(db) as conn:
        assert {m for (m,) in conn.execute("SELECT model FROM recordings")} == {model_id()}
        assert conn.execute("SELECT count(*) FROM segment_embeddings").fetchone()[0] == 3  # "more like this"


def test_silence_is_never_stored_as_a_confident_trigger(detected):
    folder, db = detected
    (hit,) = [h for h in catalog.query(db) if Path(h.path).name == "zeros.wav"]
    assert (hit.label, hit.confidence, hit.flags) == ("silent", 0.0, ("silent",))
    assert all(Path(h.path).name != "zeros.wav" for h in catalog.query(db, min_confidence=0.01))


def test_a_re_merge_keeps_verdicts_and_tags_and_format_3_is_migrated(detected, tmp_path):
    folder, db = detected
    copy = tmp_path / "copy.sqlite"
    shutil.copy(db, copy)
    before = sorted(catalog.query(copy))
    assert catalog.remerge(copy, 0.0) == 3 and sorted(catalog.query(copy)) == before
    with sqlite3.connect(copy) as conn:  # back to format 3: no abstain, silent windows or tags
        for column in ("abstain", "abstain_label", "silent_windows"):
            conn.execute(f"ALTER TABLE recordings DROP COLUMN {column}")
        conn.execute("DROP TABLE segment_tags")
        conn.execute("DROP TABLE recording_tags")
        conn.execute("PRAGMA user_version = 3")
    catalog.connect(copy).close()
    assert all(hit.tags == () for hit in catalog.query(copy))  # migrated: nothing known of its tags
    assert catalog.remerge(copy, 0.0) == 3
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == catalog.SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM segments").fetchone()[0] == 3


def test_tags_another_network_gave_are_tagged_again_and_format_4_is_migrated(detected, tmp_path):
    """The catalogue records which network scored each recording's tags; a file whose stored tags came from
    another (or from a catalogue before format 5, which did not say) is catalogued again, once."""
    folder, db = detected
    lite = network_id(audioset.YAMNET_TFLITE)
    with sqlite3.connect(db) as conn:
        assert {s for (s,) in conn.execute("SELECT source FROM recording_tags")} == {lite}
    copy = tmp_path / "copy.sqlite"
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as conn:  # back to format 4: no tag source
        conn.execute("CREATE TABLE format_4 AS SELECT recording_id, hop_samples, keep, top_index, top_score "
                     "FROM recording_tags")
        conn.execute("DROP TABLE recording_tags")
        conn.execute("ALTER TABLE format_4 RENAME TO recording_tags")
        conn.execute("PRAGMA user_version = 4")
    assert catalog.build_catalog(folder, None, copy, progress=False)["updated"] == 3
    assert catalog.build_catalog(folder, None, copy, progress=False)["skipped"] == 3
    with sqlite3.connect(copy) as conn:
        assert {s for (s,) in conn.execute("SELECT source FROM recording_tags")} == {lite}
    clf = predict.Classifier(UniformModel(2), ["a", "b"], "audio", 16000, SR)
    timeline = predict.timeline_of(clf, folder / "speech.wav")
    assert timeline.tags.source == network_id(TAG_NET_TFLITE) == predict.tag_source(False) != lite


class LevelScorer:
    """Two labels scored by a window's peak: loud windows are 'loud', nothing is ever sure of 'quiet'."""

    labels = ["loud", "quiet"]

    def __call__(self, windows):
        peak = np.abs(windows).max(axis=1)
        return np.stack([peak, 0.1 * np.ones_like(peak)], axis=1)


def test_lean_tag_shows_audioset_tags_other_and_silent(tmp_path):
    audio = np.concatenate([tone(250, 2.0, 0.9, FLOOR), tone(250, 1.0, 0.2, FLOOR), np.zeros(2 * SR, np.float32)])
    rows = tag_file(LevelScorer(), write_audio(tmp_path / "three.wav", audio, SR), top=2)
    assert [r["label"] for r in rows] == ["loud"] * 4 + ["other"] * 2 + ["silent"] * 3  # 1 s windows, 0.5 s apart
    # measured: the quiet sine's window is Sine wave (0.89), the loud one's Music (0.55) before Sine wave
    assert rows[4]["tags"][0]["label"] == "Sine wave" and rows[-1]["tags"][0]["label"] == "Silence"
    assert "Sine wave" in [tag["label"] for tag in rows[0]["tags"]]
    text = format_rows(rows).splitlines()
    assert "other: loud (0.20)" in text[4] and "| AudioSet: Sine wave" in text[4] and "silent: " in text[-1]
    assert "tags" not in tag_file(LevelScorer(), tmp_path / "three.wav", top=1, tags=0)[0]
