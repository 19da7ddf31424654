"""Adapters on tiny hand-written layouts (mp3, stereo 44.1 kHz, 0.3 s, empty and corrupt files)."""

import numpy as np
import pytest
import soundfile as sf

from audioprep.datasets import (
    detect_layout,
    load_examples,
    read_asmr85,
    read_commonvoice,
    read_fsd50k,
    read_trigger_folders,
    split_by_source,
)
from audioprep.errors import UsageError
from audioprep.io import write_audio


def noise(seconds, sr=16000, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * sr))).astype(np.float32)


@pytest.fixture
def triggers(tmp_path):
    root = tmp_path / "triggers"
    for label in ("fingernail tapping", "mukbang"):
        for i in range(4):
            write_audio(root / label / f"session{i}.wav", noise(0.5, seed=i), 16000)
    write_audio(root / "mukbang" / "short.mp3", noise(0.3), 16000)
    sf.write(root / "mukbang" / "stereo.wav", np.stack([noise(0.4, 44100), noise(0.4, 44100, 1)], 1), 44100)
    (root / "mukbang" / "empty.wav").write_bytes(b"")
    (root / "mukbang" / "corrupt.flac").write_bytes(b"fLaC garbage" * 10)
    (root / "mukbang" / "notes.txt").write_text("not audio")
    return root


def test_trigger_folders_labels_sources_and_tolerant_scan(triggers):
    examples = read_trigger_folders(triggers)
    assert len(examples) == 4 + 8
    assert {e.label for e in examples} == {"fingernail tapping", "mukbang"}
    assert all(e.source == f"{e.label}/{e.path.stem}" for e in examples)
    scan = load_examples(examples, sr=16000, progress=False)
    assert len(scan.loaded) == 10 and len(scan.bad) == 2
    assert {p.name for p, _ in scan.bad} == {"empty.wav", "corrupt.flac"}
    report = scan.report()
    assert "2 skipped" in report and "empty.wav" in report and "corrupt.flac" in report
    lengths = {ex.path.name: len(a) for ex, a in scan.loaded}
    assert lengths["stereo.wav"] == 6400 and lengths["short.mp3"] >= 4800


def test_nested_trigger_labels_and_layout_detection(tmp_path):
    root = tmp_path / "adell"
    write_audio(root / "tapping" / "glass" / "a.wav", noise(0.2), 16000)
    write_audio(root / "brushing" / "cork" / "b.wav", noise(0.2), 16000)
    assert {e.label for e in read_trigger_folders(root)} == {"tapping/glass", "brushing/cork"}
    assert detect_layout(root) == "adell"


def test_commonvoice_groups_by_speaker(tmp_path):
    root = tmp_path / "cv"
    rows = ["client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccent\tlocale\tsegment"]
    for i in range(6):
        write_audio(root / "clips" / f"c{i}.mp3", noise(0.5, seed=i), 16000)
        rows.append(f"spk{i % 2}\tc{i}.mp3\tA sentence.\t2\t0\t\t\t\ten\t")
    (root / "validated.tsv").write_text("\n".join(rows) + "\n")
    examples = read_commonvoice(root)
    assert len(examples) == 6 and {e.source for e in examples} == {"commonvoice/spk0", "commonvoice/spk1"}
    assert detect_layout(root) == "commonvoice"
    with pytest.raises(UsageError, match="validated.tsv"):
        read_commonvoice(tmp_path)


def test_asmr85_and_missing_folder(tmp_path):
    root = tmp_path / "asmr85"
    write_audio(root / "long1.wav", noise(1.0), 16000)
    write_audio(root / "long2.ogg", noise(1.0), 16000)
    assert [e.source for e in read_asmr85(root)] == ["asmr85/long1", "asmr85/long2"]
    assert detect_layout(root) == "asmr85"
    with pytest.raises(UsageError, match="nowhere"):
        read_asmr85(tmp_path / "nowhere")


def test_fsd50k_layout(tmp_path):
    root = tmp_path / "fsd"
    truth = root / "FSD50K.ground_truth"
    truth.mkdir(parents=True)
    (truth / "vocabulary.csv").write_text("0,Knock,/m/a\n1,Bark,/m/b\n2,Rain,/m/c\n")
    (truth / "dev.csv").write_text('fname,labels,mids,split\n1,"Knock,Bark","/m/a,/m/b",train\n2,Rain,/m/c,val\n')
    (truth / "eval.csv").write_text('fname,labels,mids\n3,"Bark",/m/b\n')
    for name, part in (("1", "dev"), ("2", "dev"), ("3", "eval")):
        write_audio(root / f"FSD50K.{part}_audio" / f"{name}.wav", noise(0.3), 16000)
    examples, vocabulary = read_fsd50k(root)
    assert vocabulary == ["Knock", "Bark", "Rain"]
    assert [(e.labels, e.split) for e in examples] == [
        (("Knock", "Bark"), "train"), (("Rain",), "val"), (("Bark",), "eval")]
    assert detect_layout(root) == "fsd50k"


def test_split_is_grouped_stratified_and_deterministic(triggers):
    examples = [e for e in read_trigger_folders(triggers)] * 3  # several clips per source
    a = split_by_source(examples, seed=3)
    b = split_by_source(examples, seed=3)
    assert {k: [e.path for e in v] for k, v in a.items()} == {k: [e.path for e in v] for k, v in b.items()}
    sides = {}
    for split, members in a.items():
        for e in members:
            assert sides.setdefault(e.source, split) == split
    for split in ("train", "val", "test"):
        assert {e.label for e in a[split]} == {"fingernail tapping", "mukbang"}
    assert sum(len(v) for v in a.values()) == len(examples)
