"""audioprep.slices on the small generated corpus: Lin's clips and DeepASMR's slices, the cache, subsampling.

The expected numbers were recorded from the code before the two corpora shared one module
(seed 0, `--size small`); a refactor that changes what the tables train on fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from asmr_classify.data import lin_corpus
from audioprep import slices
from audioprep.cache import write_npz
from audioprep.datasets import Example, read_commonvoice
from audioprep.paths import DATA_ENV
from audioprep.slices import SPLITS, audio_slice_sets, build_sets, clips, evenly, mel_slice_sets

NINE = 9  # trigger labels of the deepasmr layout
RTOL = 5e-5  # of a split's sum of |x|: 15x the largest difference seen between two x86 CPUs

# split -> (shape, label counts, sources, sum, sum of |x|)
LIN = {
    "train": ((13, 128, 1), [7, 6], 6, -4984.44634, 9415.8526),
    "val": ((6, 128, 1), [4, 2], 2, -1931.097389, 5319.895333),
    "test": ((7, 128, 1), [3, 4], 2, -2693.299124, 5415.486375),
}
LIN_LIMITED = {  # seed 1, two clips per ASMR recording, seven speech clips
    "train": ((8, 128, 1), [4, 4], 5, -2784.205207, 6211.488856),
    "val": ((3, 128, 1), [2, 1], 2, -1350.858707, 2278.546485),
    "test": ((4, 128, 1), [2, 2], 2, -1478.051885, 3072.72631),
}
MEL = {  # three slices per recording
    "train": ((54, 64, 64), [6] * NINE, 18, -1858569.466502, 1864423.151731),
    "val": ((27, 64, 64), [3] * NINE, 9, -956157.137069, 958798.320826),
    "test": ((27, 64, 64), [3] * NINE, 9, -928423.804877, 930905.814282),
}
AUDIO = {  # four 0.5 s slices per recording at 22.05 kHz
    "train": ((72, 11025), [8] * NINE, 18, -11.473465, 12848.123672),
    "val": ((36, 11025), [4] * NINE, 9, -8.006332, 5062.325027),
    "test": ((36, 11025), [4] * NINE, 9, 27.065842, 6316.157333),
}


def assert_sets(sets, expected, classes):
    for split, (shape, counts, sources, total, magnitude) in expected.items():
        got = sets[split]
        assert got.x.shape == shape and got.x.dtype == np.float32 and got.classes == classes
        assert np.bincount(got.y, minlength=len(classes)).tolist() == counts
        assert len(set(got.sources)) == sources and len(got.sources) == shape[0]
        # float32 synthesis and FFTs differ in the last bits between CPUs (an AMD EPYC moved Lin's train sum by
        # 3e-6 of its magnitude), so both sums are compared to within RTOL of the magnitude: any changed
        # clip, label or order moves them by far more.
        assert float(got.x.sum(dtype=np.float64)) == pytest.approx(total, abs=RTOL * magnitude)
        assert float(np.abs(got.x).sum(dtype=np.float64)) == pytest.approx(magnitude, rel=RTOL)
    seen = {}
    for split in SPLITS:  # no recording on both sides of a split
        for source in sets[split].sources:
            assert seen.setdefault(source, split) == split


@pytest.fixture
def lin_data(small_layout, tmp_path):
    """A parent folder holding the small asmr85/ and commonvoice/ corpora, as Lin's corpus expects."""
    for layout in ("asmr85", "commonvoice"):
        (tmp_path / layout).symlink_to(small_layout(layout), target_is_directory=True)
    return tmp_path


def test_lin_clips_as_before(lin_data):
    assert_sets(lin_corpus(lin_data, cache=False).splits, LIN, ["asmr", "speech"])
    limited = lin_corpus(lin_data, seed=1, max_clips_per_recording=2, max_speech_clips=7, cache=False)
    assert_sets(limited.splits, LIN_LIMITED, ["asmr", "speech"])
    assert limited.window_samples == 220500 and limited.kind == "mfcc"


def test_deepasmr_slices_as_before(small_layout):
    root = small_layout("deepasmr")
    mel = mel_slice_sets(root, max_slices_per_file=3, cache=False)
    classes = mel["train"].classes
    assert len(classes) == NINE and classes == sorted(classes)
    assert_sets(mel, MEL, classes)
    assert_sets(audio_slice_sets(root, 22050, 0.5, max_slices_per_file=4, cache=False), AUDIO, classes)


def test_cache_is_read_back_instead_of_decoding(small_layout, tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    root = small_layout("deepasmr")
    built = audio_slice_sets(root, 8000, 0.25, max_slices_per_file=2)
    assert [p.name.split("-")[0] for p in (tmp_path / "cache").iterdir()] == ["audio"]

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded audio although the cache holds the sets")

    monkeypatch.setattr(slices, "load_examples", no_decoding)
    cached = audio_slice_sets(root, 8000, 0.25, max_slices_per_file=2)
    for split in SPLITS:
        np.testing.assert_array_equal(cached[split].x, built[split].x)
        np.testing.assert_array_equal(cached[split].y, built[split].y)
        assert cached[split].sources == built[split].sources and cached[split].classes == built[split].classes
    with pytest.raises(AssertionError, match="decoded"):  # other settings are another cache entry
        audio_slice_sets(root, 8000, 0.25, max_slices_per_file=3)


def test_an_interrupted_cache_write_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    path = tmp_path / "cache" / "sets.npz"
    write_npz(path, {"a": np.arange(3)})

    def killed(fh, **arrays):
        fh.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        write_npz(path, {"a": np.arange(5)})
    assert [p.name for p in path.parent.iterdir()] == ["sets.npz"]
    with np.load(path) as stored:
        np.testing.assert_array_equal(stored["a"], np.arange(3))


def test_any_adapter_with_an_unreadable_file(small_layout, tmp_path, capsys):
    examples = read_commonvoice(small_layout("commonvoice"))
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF garbage" * 8)
    examples.append(Example(corrupt, ("speech",), "commonvoice/broken"))
    sets = build_sets(examples, ["speech"], 16000, lambda _, audio: clips(audio, 4000, limit=2), shape=(4000,),
                      name="speech", settings={}, cache=False)
    assert sum(len(v) for v in sets.values()) == 2 * 12
    assert all(v.x.shape[1:] == (4000,) for v in sets.values())
    report = capsys.readouterr().err
    assert "12 files read, 1 skipped" in report and "corrupt.wav" in report


def test_evenly_keeps_the_ends_and_spreads_the_rest():
    np.testing.assert_array_equal(evenly(np.arange(10) * 2, 4), [0, 6, 12, 18])
    assert evenly(list("abcdefg"), 3) == ["a", "d", "g"]
    items = np.arange(3)
    assert evenly(items, 3) is items and evenly(items, None) is items
    audio = np.arange(45, dtype=np.float32)
    np.testing.assert_array_equal(clips(audio, 10, limit=2)[:, 0], [0, 30])  # of the clips at 0, 10, 20, 30
