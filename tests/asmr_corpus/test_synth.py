"""The generated corpus: byte-identical for a seed, readable by the dataset adapters, level-balanced,
and not trivially separable."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asmr_corpus import DEEPASMR_LABELS, LAYOUTS, write_layout
from asmr_corpus import room as R
from audioprep.datasets import detect_layout, read_fsd50k, read_layout
from audioprep.errors import UsageError


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_seed_gives_byte_identical_files(layout, small_layout, tmp_path):
    again = write_layout(layout, tmp_path, seed=0, size="small", progress=False)
    first = _digests(small_layout(layout))
    assert len(first) > 3
    assert _digests(again) == first


def test_worker_processes_do_not_change_the_bytes(small_layout, tmp_path):
    pooled = write_layout("asmr85", tmp_path, seed=0, size="small", workers=2, progress=False)
    assert _digests(pooled) == _digests(small_layout("asmr85"))


def test_workers_do_not_import_the_callers_main(tmp_path):
    """A table script's __main__ imports TensorFlow; re-imported in every worker it cost seconds each."""
    script = tmp_path / "caller.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from asmr_corpus import write_layout\n"
        "if __name__ == '__main__':\n"
        "    write_layout('asmr85', sys.argv[1], size='small', workers=2, progress=False)\n"
        "else:  # a worker importing this file\n"
        "    Path(sys.argv[2]).write_text(__name__)\n")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "out"), str(tmp_path / "imported")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out" / "asmr85").glob("*.wav"))) == 4 and not (tmp_path / "imported").exists()


def test_another_seed_gives_other_audio(small_layout, tmp_path):
    other = write_layout("asmr85", tmp_path, seed=1, size="small", progress=False)
    first = _digests(small_layout("asmr85"))
    assert set(_digests(other)) == set(first)
    assert all(_digests(other)[k] != v for k, v in first.items())


def test_trigger_layouts_read_by_the_adapters(small_layout):
    deep = small_layout("deepasmr")
    assert detect_layout(deep) == "deepasmr"
    examples = read_layout(deep)
    assert {ex.label for ex in examples} == set(DEEPASMR_LABELS)
    assert len({ex.source for ex in examples}) == len(examples) == 9 * 4
    adell = small_layout("adell")
    assert detect_layout(adell) == "adell"
    labels = {ex.label for ex in read_layout(adell)}
    assert len(labels) == 21 and "tapping/glass" in labels and "scratching/sponge microphone" in labels
    for root in (deep, adell):
        info = sf.info(str(read_layout(root)[0].path))
        assert (info.samplerate, info.channels) == (22050, 2)


def test_lin_layouts_read_by_the_adapters(small_layout):
    asmr = read_layout(small_layout("asmr85"))
    assert detect_layout(small_layout("asmr85")) == "asmr85"
    assert len(asmr) == 4 and all(sf.info(str(ex.path)).duration >= 30 for ex in asmr)
    cv_root = small_layout("commonvoice")
    assert detect_layout(cv_root) == "commonvoice"
    speech = read_layout(cv_root)
    assert len(speech) == 12 and len({ex.source for ex in speech}) == 6
    header = (cv_root / "validated.tsv").read_text().splitlines()[0].split("\t")
    assert header == ["client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accent",
                      "locale", "segment"]
    durations = [sf.info(str(ex.path)).duration for ex in speech]
    assert all(ex.path.suffix == ".mp3" for ex in speech)
    assert 2.5 < np.mean(durations) < 8.0


def test_fsd50k_layout_read_by_the_adapter(small_layout):
    root = small_layout("fsd50k")
    assert detect_layout(root) == "fsd50k"
    examples, vocabulary = read_fsd50k(root)
    assert len(vocabulary) >= 20 and "Finger_snapping" in vocabulary
    assert {ex.split for ex in examples} == {"train", "val", "eval"}
    assert all(1 <= len(ex.labels) <= 3 and set(ex.labels) <= set(vocabulary) for ex in examples)
    infos = [sf.info(str(ex.path)) for ex in examples]
    assert {(i.samplerate, i.channels) for i in infos} == {(16000, 1)}
    assert all(0.29 <= i.duration <= 30.0 for i in infos)
    for ex in examples:  # every labelled clip holds its events, not only room tone (floor <= -48 dBFS)
        audio, sr = sf.read(str(ex.path), dtype="float32")
        blocks = np.sqrt(np.mean(np.square(audio[: len(audio) // 320 * 320].reshape(-1, 320)), axis=1))
        loud = 20 * np.log10(R.active_rms(audio, sr)) > -42.0
        impulsive = np.abs(audio).max() > 8 * blocks.min()  # a click limited to full scale stands out
        assert loud or impulsive, ex.path


def test_every_deepasmr_class_spans_the_same_level_range(small_layout):
    """Loudness is set per session from one range for all labels, so it cannot give a label away."""
    levels = {}
    for ex in read_layout(small_layout("deepasmr")):
        audio, sr = sf.read(str(ex.path), dtype="float32")
        levels.setdefault(ex.label, []).append(20 * np.log10(R.active_rms(audio.mean(axis=1), sr)))
    low, high = R.ASMR_CHAIN.level_db
    for label, values in levels.items():
        assert low - 4.0 <= min(values) and max(values) <= high + 1.0, (label, values)
    medians = [np.median(v) for v in levels.values()]
    assert max(medians) - min(medians) < 14.0


def test_mfcc_logistic_regression_stays_below_90_percent(small_layout):
    from asmr_classify.separability import mfcc_logreg_accuracy

    accuracy = mfcc_logreg_accuracy(small_layout("deepasmr"))
    assert 1.5 / 9 < accuracy < 0.9


def test_unknown_layout_and_size_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="--layout"):
        write_layout("urbansound8k", tmp_path)
    with pytest.raises(UsageError, match="--size"):
        write_layout("deepasmr", tmp_path, size="huge")
