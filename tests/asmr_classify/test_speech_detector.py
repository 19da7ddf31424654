"""The ASMR / speech detector that needs no training, on the bundled real YAMNet: espeak-ng speech is
speech, espeak-ng whispering never is, generated triggers are asmr, digital silence is silent, and
`predict FILE` without --model says so per window and per file.

tests/fixtures/speech_espeak.wav and whisper_espeak.wav (2.9 s, 16 kHz, 16-bit) were made with
Debian's espeak-ng 1.51, `espeak-ng -v en -s 170 -w out.wav "The quick brown fox jumps over the lazy dog."`
(and `-v en+whisper`), resampled from 22.05 kHz with soxr (docs/asmr_classify.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from asmr_audioset.lite_yamnet import class_index, yamnet
from asmr_classify import predict
from asmr_classify.__main__ import main as cli
from asmr_classify.params import DETECTOR
from asmr_classify.speech_detector import load_detector, speech_probability, voiced_share
from asmr_corpus.asmr85 import TRIGGERS
from audioprep.io import load_audio, write_audio
from audioprep.segment import sliding_windows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPEECH, WHISPER = FIXTURES / "speech_espeak.wav", FIXTURES / "whisper_espeak.wav"
SR = 16000


@pytest.fixture(scope="module")
def detector():
    return load_detector()


def test_espeak_speech_is_speech_in_every_window(detector):
    result = predict.classify_file(detector, SPEECH)
    assert result.label == "speech" and result.majority == "speech"
    assert result.confidence == result.probabilities["speech"] >= 0.95  # measured 0.979
    assert len(result.windows) == 5 and {w.label for w in result.windows} == {"speech"}
    assert min(w.confidence for w in result.windows) >= 0.9  # measured 0.919 .. 0.998
    assert result.tags[0].label == "Speech" and result.tags[0].score >= 0.95


def test_espeak_whispering_is_never_speech_though_yamnet_hears_speech(detector):
    """YAMNet scores espeak's whisper voice Speech 0.62-0.98 per window and Whispering 0; its windows are
    unvoiced (share <= 0.05 against >= 0.3 for the spoken fixture), so the rule caps them at unsure."""
    audio, _ = load_audio(WHISPER, sr=SR)
    windows = sliding_windows(audio, 15600, 0.5)
    scores, _ = yamnet()(windows)
    assert scores[:, class_index("Speech")].min() >= 0.6 and scores[:, class_index("Whispering")].max() < 0.05
    assert voiced_share(windows).max() < DETECTOR.voiced_min
    spoken, _ = load_audio(SPEECH, sr=SR)
    assert voiced_share(sliding_windows(spoken, 15600, 0.5)).min() >= 0.3
    result = predict.classify_file(detector, WHISPER)
    assert result.label == "unsure" and {w.label for w in result.windows} == {"unsure"}
    assert result.probabilities["speech"] == pytest.approx(DETECTOR.unvoiced_cap)


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_generated_triggers_are_asmr(detector, trigger, tmp_path):
    """asmr_corpus's eight ASMR-85 triggers, 3 s each at peak 0.3: every window asmr (file p_speech <= 0.04)."""
    audio = TRIGGERS[trigger](np.random.default_rng(0), 3 * SR, SR)
    path = write_audio(tmp_path / "trigger.wav", audio / np.abs(audio).max() * 0.3, SR)
    result = predict.classify_file(detector, path)
    assert result.label == "asmr" and {w.label for w in result.windows} == {"asmr"}
    assert result.probabilities["speech"] <= 0.05


def test_digital_silence_is_silent_whatever_yamnet_says(detector, tmp_path):
    result = predict.classify_file(detector, write_audio(tmp_path / "zeros.wav", np.zeros(2 * SR, np.float32), SR))
    assert (result.label, result.confidence) == ("silent", 0.0)
    assert {(w.label, w.confidence) for w in result.windows} == {("silent", 0.0)}
    assert [t.label for t in result.tags][:1] == ["Silence"]
    assert any("digital silence" in line for line in result.warnings)


def test_the_rule():
    speech = np.array([0.95, 0.95, 0.95, 0.95, 0.5, 0.1])
    whispering = np.array([0.0, 0.1, 0.2, 0.0, 0.0, 0.0])
    voiced = np.array([0.5, 0.5, 0.5, 0.0, 0.5, 0.0])
    p = speech_probability(speech, whispering, voiced)
    np.testing.assert_allclose(p, [0.95, 0.475, 0.0, 0.5, 0.5, 0.1], atol=1e-6)
    detector = load_detector()
    timeline = predict.Timeline(np.stack([1 - p, p], axis=1), detector.classes, SR, 15600, 15600, 6 * 15600,
                                abstain=detector.abstain, abstain_label=detector.abstain_label)
    assert timeline.verdicts()[0] == ["speech", "unsure", "asmr", "unsure", "unsure", "asmr"]


def test_voiced_share_hears_a_harmonic_voice_not_noise_or_silence():
    t = np.arange(15600) / SR
    buzz = 0.3 * (2 * ((t * 150) % 1) - 1)  # a 150 Hz sawtooth: a pitch with harmonics
    noise = 0.1 * np.random.default_rng(0).standard_normal(15600)
    np.testing.assert_array_equal(voiced_share(np.stack([buzz, noise, np.zeros(15600)]).astype(np.float32)), [1, 0, 0])


def test_predict_without_a_model_labels_a_recording_window_by_window(tmp_path, capsys):
    """Speech, then a trigger, then silence, eight whole windows long: the command's first run on a person's
    file needs no training. The window holding the trigger's last 0.07 s and zeros is asmr (YAMNet: Silence)."""
    spoken, _ = load_audio(SPEECH, sr=SR)
    trigger = TRIGGERS["brushing"](np.random.default_rng(1), 3 * SR, SR)
    zeros = np.zeros(8 * 15600 - len(spoken) - len(trigger), np.float32)
    audio = np.concatenate([spoken, 0.3 * trigger / np.abs(trigger).max(), zeros])
    path = write_audio(tmp_path / "mixed.wav", audio, SR)
    assert cli(["predict", str(path), "--overlap", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    labels = [w["label"] for w in result["windows"]]
    assert labels == ["speech", "speech", "speech", "asmr", "asmr", "asmr", "asmr", "silent"]
    assert result["majority"] == "asmr" and set(result["probabilities"]) == {"asmr", "speech"}
    assert [t["label"] for t in result["windows"][0]["tags"]][:1] == ["Speech"]
    assert cli(["predict", str(path), "--overlap", "0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{path}: ") and "AudioSet: " in text and "silent" in text


def test_the_voicing_check_runs_in_the_featurising_thread_with_the_same_scores(detector, tmp_path, monkeypatch):
    """In the pipeline the cepstral check runs beside YAMNet, not after it; the probabilities are those of
    scoring the raw windows at once."""
    import threading

    from asmr_classify import speech_detector

    audio, _ = load_audio(SPEECH, sr=SR)
    path = write_audio(tmp_path / "speech_twice.wav", np.concatenate([audio, audio[::-1]]), SR)
    threads, real = set(), speech_detector.voiced_share

    def noting(windows, params=DETECTOR, sr=SR):
        threads.add(threading.get_ident())
        return real(windows, params, sr)

    monkeypatch.setattr(speech_detector, "voiced_share", noting)
    timeline = predict.timeline_of(detector, path, overlap=0.5)
    assert threads and threading.get_ident() not in threads  # not the model's (this) thread
    decoded, _ = load_audio(path, sr=SR)
    direct = detector.score(sliding_windows(decoded, detector.window_samples, 0.5))
    np.testing.assert_array_equal(timeline.probs, direct.probs)
    np.testing.assert_array_equal(timeline.tags.index, direct.tags[0])
