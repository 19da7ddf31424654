"""asmr_classify.predict streams: the same timeline as the whole decoded file, one model call per batch
in a pipeline of threads, bounded memory, and truncated or broken long files reported in one line."""

from __future__ import annotations

import json
import threading
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from streaming_fixtures import recording, tiny_model

from asmr_audioset.params import ABSTAIN
from asmr_classify import predict
from asmr_classify.__main__ import main as cli
from audioprep.io import load_audio, write_audio
from audioprep.params import MelSliceParams
from audioprep.segment import sliding_windows, window_bounds, window_count, window_hop
from audioprep.stream import AudioStream, scan_audio

SR_IN = 44100


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tiny DeepASMR model, a 3-minute stereo 44.1 kHz wav, its first 40 s as mp3 and flac, and
    copies of the three cut in half."""
    root = tmp_path_factory.mktemp("predict_stream")
    audio = recording(180.0)
    files = {"model": tiny_model(root / "tiny.keras")}
    for ext in (".wav", ".mp3", ".flac"):
        files[ext] = write_audio(root / f"recording{ext}", audio if ext == ".wav" else audio[:, : 40 * SR_IN], SR_IN)
        data = files[ext].read_bytes()
        files["cut" + ext] = root / f"cut{ext}"
        files["cut" + ext].write_bytes(data[: len(data) // 2 + 7])  # mid-sample (wav), mid-frame (mp3)
    return files


@pytest.fixture(scope="module")
def clf(made):
    return predict.load_classifier(made["model"])


def whole_file_probs(clf, path, overlap):
    """What predict did before streaming: decode the whole file, cut every window, one predict call."""
    audio, _ = load_audio(path, sr=clf.sample_rate)
    windows = sliding_windows(audio, clf.window_samples, overlap)
    return predict.predict_proba(clf, predict.features(clf, windows)), len(audio)


@pytest.mark.parametrize("overlap", [0.5, 0.0])
def test_the_streamed_timeline_equals_the_whole_file_one(clf, made, overlap):
    expected, total = whole_file_probs(clf, made[".wav"], overlap)
    result = predict.classify_file(clf, made[".wav"], overlap, tags=0)  # tags: test_audioset_tags.py
    hop = window_hop(clf.window_samples, overlap)
    assert len(result.windows) == len(expected) == window_count(total, clf.window_samples, hop)
    starts, ends = window_bounds(len(expected), clf.window_samples, hop, clf.sample_rate, total=total)
    assert [w.start for w in result.windows] == starts.tolist() and [w.end for w in result.windows] == ends.tolist()
    # a window whose top probability is under the model's abstain threshold (the default: none stored) is "other"
    assert clf.abstain == ABSTAIN.default_threshold
    labels = [clf.classes[i] if p >= clf.abstain else "other" for i, p in zip(expected.argmax(axis=1),
                                                                              expected.max(axis=1), strict=True)]
    assert [w.label for w in result.windows] == labels and 0 < labels.count("other") < len(labels)
    np.testing.assert_allclose([w.confidence for w in result.windows], expected.max(axis=1), atol=1e-5)
    mean = expected.mean(axis=0)
    assert result.label == (clf.classes[int(mean.argmax())] if mean.max() >= clf.abstain else "other")
    assert result.truncated is None
    np.testing.assert_allclose([result.probabilities[c] for c in clf.classes], mean, atol=1e-6)
    assert len(set(labels)) >= 2 and len(predict.merge_windows(result.windows)) >= 5  # a timeline worth comparing


class FakeModel:
    """Two 'probabilities' per window (its mean level and its peak), recording every call's thread and size."""

    def __init__(self):
        self.calls = []

    def predict_on_batch(self, x):
        self.calls.append((threading.get_ident(), len(x)))
        level = np.abs(x).mean(axis=1)
        return np.stack([level, np.abs(x).max(axis=1) - level], axis=1)


class ThreadedBlocks:
    """An AudioStream that notes the threads it is decoded in."""

    def __init__(self, stream):
        self.stream, self.threads = stream, set()

    def __iter__(self):
        for block in self.stream:
            self.threads.add(threading.get_ident())
            yield block

    @property
    def samples(self):
        return self.stream.samples

    @property
    def status(self):
        return self.stream.status


def test_windows_go_to_the_model_a_batch_per_call_while_other_threads_decode_and_featurise(tmp_path, monkeypatch):
    sr = 8000
    path = write_audio(tmp_path / "thirty.wav", recording(30.0, sr, seed=1), sr)
    clf = predict.Classifier(FakeModel(), ["level", "peak"], "audio", 1000, sr)
    real_features, feature_threads = predict.features, set()

    def features(c, windows):
        feature_threads.add(threading.get_ident())
        return real_features(c, windows)

    monkeypatch.setattr(predict, "features", features)
    stream = ThreadedBlocks(AudioStream(path, sr=sr, block_frames=3000))
    timeline = predict.classify_stream(clf, stream, overlap=0.5)
    count = window_count(30 * sr, 1000, 500)
    assert count == 479 and [n for _, n in clf.model.calls] == [predict.BATCH] * 14 + [31]
    model_threads = {thread for thread, _ in clf.model.calls}
    assert model_threads == {threading.get_ident()}
    assert len(stream.threads) == len(feature_threads) == 1 and len(stream.threads | feature_threads | model_threads) == 3
    audio, _ = load_audio(path, sr=sr)
    np.testing.assert_array_equal(timeline.probs, FakeModel().predict_on_batch(sliding_windows(audio, 1000, 0.5)))
    assert timeline.samples == 30 * sr and not timeline.status.truncated


def test_classifying_a_long_file_holds_a_few_batches_not_the_file(tmp_path):
    """Ten minutes of 44.1 kHz stereo is 212 MB as float32; the pipeline holds blocks and batches."""
    path, minutes = tmp_path / "ten_minutes.wav", 10
    second = recording(1.0).T
    with sf.SoundFile(path, "w", SR_IN, 2, subtype="PCM_16") as fh:
        for _ in range(60 * minutes):
            fh.write(second)
    clf = predict.Classifier(FakeModel(), ["level", "peak"], "audio", 2205, 22050)
    tracemalloc.start()
    try:
        timeline = predict.timeline_of(clf, path, overlap=0.5, tags=False)  # the model's pipeline alone
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(timeline.probs) == window_count(minutes * 60 * 22050, 2205, 1102) == 12005
    assert peak < 60 * minutes * SR_IN * 2 * 4 // 10


def test_cut_and_broken_long_files_are_reported_in_one_line_each(made, capfd):
    """A cut wav or mp3 is classified as far as it goes with one warning naming the time it stops at
    (and no decoder chatter); a flac that fails part-way is an error naming the file; the rest runs."""
    paths = [made["cut.wav"], made["cut.mp3"], made["cut.flac"], made[".wav"]]
    capfd.readouterr()
    code = cli(["predict", "--model", str(made["model"]), "--json", "--overlap", "0", *map(str, paths)])
    out, err = capfd.readouterr()
    assert code == 1
    results = {r["path"]: r for r in map(json.loads, out.splitlines())}
    assert list(results) == [str(made["cut.wav"]), str(made["cut.mp3"]), str(made[".wav"])]
    lines = [line for line in err.splitlines() if str(made["cut.wav"].parent) in line or "Warning" in line]
    notes = [scan_audio(made[key]).note() for key in ("cut.wav", "cut.mp3")]
    assert notes[0] == f"{made['cut.wav']}: truncated: audio stops at 1:30.0 of 3:00.0"
    assert lines[:2] == [f"warning: {note}" for note in notes] and len(lines) == 3
    assert lines[2].startswith(f"error: {made['cut.flac']}: cannot decode audio after 0:")
    window = MelSliceParams().slice_samples
    for key, note in zip(("cut.wav", "cut.mp3"), notes, strict=True):
        result = results[str(made[key])]
        decoded, _ = load_audio(made[key], sr=22050)
        assert result["truncated"] == note
        assert len(result["windows"]) == window_count(len(decoded), window, window)
        assert result["windows"][-1]["end"] == pytest.approx(len(decoded) / 22050)
    assert results[str(made[".wav"])]["truncated"] is None
    assert "1 of 4 files could not be classified" in err


def test_bad_overlap_is_refused_in_one_line(made, capsys):
    with pytest.raises(SystemExit) as info:
        cli(["predict", "--model", str(made["model"]), "--overlap", "1", str(made[".wav"])])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("--overlap: must be in [0, 1), not 1")
