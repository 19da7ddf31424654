"""One decode for a classifier and YAMNet's tags (asmr_classify.shared_decode): the same samples at each rate as
a stream of its own, the same timeline and tag track as the two-pass path, the file read once, and an error on
either side stopping both."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from streaming_fixtures import recording

import audioprep.stream
from asmr_audioset import lite_yamnet
from asmr_audioset.lite_yamnet import track_of
from asmr_classify import predict
from asmr_classify.shared_decode import SharedDecode, TagFeed
from audioprep.errors import AudioError
from audioprep.io import write_audio
from audioprep.stream import AudioStream

SR_IN = 44100


class LevelModel:
    """Two 'probabilities' per window: its mean level and its peak (no Keras: equality needs no accuracy)."""

    def predict_on_batch(self, x):
        level = np.abs(x).mean(axis=1)
        return np.stack([level, np.abs(x).max(axis=1) - level], axis=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared_decode")
    audio = recording(70.0, SR_IN, seed=3)
    return {ext: write_audio(root / f"recording{ext}", audio, SR_IN) for ext in (".wav", ".mp3")}


def _joined(blocks) -> np.ndarray:
    return np.concatenate(list(blocks))


@pytest.mark.parametrize("ext", [".wav", ".mp3"])
def test_each_rate_gets_the_samples_a_stream_of_its_own_decodes(files, ext):
    """The classifier's rate and YAMNet's 16 kHz from one decode equal two AudioStreams', sample for sample."""
    fed = []

    class Collect:
        def put(self, block):
            fed.append(block)

        def end(self):
            pass

    shared = SharedDecode(files[ext], 22050, Collect())
    model_side = _joined(shared)
    alone = AudioStream(files[ext], sr=22050)
    np.testing.assert_array_equal(model_side, _joined(alone))
    np.testing.assert_array_equal(_joined(fed), _joined(AudioStream(files[ext], sr=16000)))
    assert shared.samples == alone.samples and shared.status == alone.status


@pytest.mark.parametrize("ext", [".wav", ".mp3"])
def test_the_timeline_and_tags_equal_the_two_pass_path(files, ext):
    """What `timeline_of` gave when YAMNet's tag pass decoded the file a second time."""
    clf = predict.Classifier(LevelModel(), ["level", "peak"], "audio", 2205, 22050)
    timeline = predict.timeline_of(clf, files[ext], overlap=0.5)
    two_pass = predict.classify_stream(clf, AudioStream(files[ext], sr=22050), overlap=0.5)
    track = track_of(files[ext])
    np.testing.assert_array_equal(timeline.probs, two_pass.probs)
    assert timeline.samples == two_pass.samples and timeline.status == two_pass.status
    assert len(track.index) == len(timeline.tags.index) == 72  # 70 s in back-to-back 0.975 s windows
    np.testing.assert_array_equal(timeline.tags.index, track.index)
    np.testing.assert_array_equal(timeline.tags.score, track.score)
    two_pass.tags = track
    assert predict.file_result(files[ext], timeline) == predict.file_result(files[ext], two_pass)


def test_the_file_is_read_once_for_both_models(files, monkeypatch):
    frames_read = []
    real = audioprep.stream.read_frames

    def counting(fh, path, want, position):
        frames = real(fh, path, want, position)
        frames_read.append(len(frames))
        return frames

    monkeypatch.setattr(audioprep.stream, "read_frames", counting)
    clf = predict.Classifier(LevelModel(), ["level", "peak"], "audio", 2205, 22050)
    timeline = predict.timeline_of(clf, files[".wav"], overlap=0.0)
    assert sum(frames_read) == 70 * SR_IN and timeline.tags is not None


def test_a_failing_tag_pass_stops_the_decode_and_is_raised(files, monkeypatch):
    class Broken:
        source = "broken"

        def __call__(self, windows):
            raise RuntimeError("interpreter failed")

    monkeypatch.setattr(lite_yamnet, "tag_net", Broken)
    clf = predict.Classifier(LevelModel(), ["level", "peak"], "audio", 2205, 22050)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="interpreter failed"):
        predict.timeline_of(clf, files[".wav"], overlap=0.5)
    assert threading.active_count() == before


def test_an_undecodable_file_stops_the_tag_thread_and_names_the_file(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    clf = predict.Classifier(LevelModel(), ["level", "peak"], "audio", 2205, 22050)
    before = threading.active_count()
    with pytest.raises(AudioError, match="broken.wav"):
        predict.timeline_of(clf, bad, overlap=0.5)
    assert threading.active_count() == before


def test_a_tag_feed_given_up_on_ends_its_thread():
    feed = TagFeed()
    feed.put(np.zeros(16000, np.float32))
    feed.stop()
    with pytest.raises(RuntimeError, match="stopped before its end"):
        feed.result()
