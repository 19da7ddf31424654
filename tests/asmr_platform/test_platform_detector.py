"""The app with no --model: uploads are labelled by YAMNet's ASMR / speech detector (the real weights in
asmr_audioset/assets), catalogued under its model id exactly as `catalog` without --model would store them,
shown with the detector's name and searchable by their AudioSet tags; silence is never stored as a trigger.
Only the verdict on generated sounds still needs --model. On a copy of the small catalogue (labelled by a
trained classifier), so the page holds recordings of two models."""

from __future__ import annotations

import io
import shutil
from dataclasses import asdict

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from serve_fixtures import app_on_copy

from asmr_classify import catalog
from asmr_classify.params import DETECTOR as DETECTOR_PARAMS
from asmr_classify.speech_detector import CLASSES, UNSURE
from asmr_classify.speech_detector import model_id as detector_id
from asmr_platform.__main__ import NO_FLAGS, cli
from asmr_platform.engines import NEEDS, Engines
from asmr_platform.names import DETECTOR, Names
from audioprep.quality import SILENT

GAP = (3.0, 6.0)  # the seconds of digital silence in `made.gap` (3 s of sound, 3 s of silence, 3 s of sound)


@pytest.fixture()
def detecting(made, tmp_path):
    """(client, db): an app started without --model over a copy of the catalogue of this test's own."""
    app, db = app_on_copy(made, tmp_path, Engines())
    with TestClient(app) as c:
        yield c, db


def upload(c, name: str, body: bytes) -> dict:
    response = c.post("/api/uploads", params={"name": name}, content=body)
    assert response.status_code == 200, response.text
    return response.json()


def as_catalog_stores(made, tmp_path):
    """`catalog` without --model on the gap recording: its segments (start, end, label, confidence, tags)."""
    folder = tmp_path / "alone"
    folder.mkdir()
    shutil.copy(made.gap, folder / made.gap.name)
    assert catalog.build_catalog(folder, None, tmp_path / "detector.sqlite", progress=False)["added"] == 1
    return sorted((h.start, h.end, h.label, h.confidence, [asdict(t) for t in h.tags])
                  for h in catalog.query(tmp_path / "detector.sqlite"))


def test_without_model_an_upload_is_labelled_by_the_detector_and_catalogued_under_it(detecting, made, tmp_path):
    c, db = detecting
    config = c.get("/api/config").json()
    assert "add" not in config["missing"] and config["labeller"] == DETECTOR
    assert UNSURE in config["none_of_these"] and SILENT in config["none_of_these"]

    got = upload(c, "tapping by the window.wav", made.gap.read_bytes())
    assert got["model"] == DETECTOR and set(got["probabilities"]) == set(CLASSES)
    assert got["label"] in (*CLASSES, UNSURE) and got["flags"] == [] and got["warnings"] == []
    assert len(got["tags"]) == 3 and all(0 < t["score"] <= 1 for t in got["tags"])
    segments = sorted((s["start"], s["end"], s["label"], s["confidence"], s["tags"]) for s in got["segments"])
    assert segments == as_catalog_stores(made, tmp_path)  # the detector's labels, as `catalog` stores them
    assert {s[2] for s in segments} <= {*CLASSES, UNSURE, SILENT}
    quiet = [s for s in segments if GAP[0] <= s[0] and s[1] <= GAP[1]]
    assert quiet and all(s[2] == SILENT and s[3] == 0 for s in quiet)  # silence is no trigger, not even unsure

    added = c.post(f"/api/uploads/{got['id']}/catalogue").json()
    assert added["status"] == "added" and added["name"] == "tapping by the window.wav" and added["model"] == DETECTOR
    path = db.parent / "uploads" / got["id"][:12] / "tapping by the window.wav"
    conn = catalog.connect(db, create=False)
    row = conn.execute("SELECT model, abstain, abstain_label FROM recordings WHERE id = ?",
                       (added["recording_id"],)).fetchone()
    conn.close()
    assert row == (detector_id(), DETECTOR_PARAMS.speech_at, UNSURE)
    stored = sorted((h.start, h.end, h.label, h.confidence, [asdict(t) for t in h.tags])
                    for h in catalog.query(db) if h.path == str(path.resolve()))
    assert stored == segments
    assert not any(h.label in CLASSES for h in catalog.query(db) if h.path == str(path.resolve())
                   and GAP[0] <= h.start and h.end <= GAP[1])

    config = c.get("/api/config").json()
    ours = [r for r in config["recordings"] if r["id"] == added["recording_id"]]
    others = [r["model"] for r in config["recordings"] if r["id"] != added["recording_id"]]
    assert [r["model"] for r in ours] == [DETECTOR] and set(others) == {"classifier/best.keras"}
    assert {m["name"]: m["recordings"] for m in config["models"]} == {"classifier/best.keras": len(others), DETECTOR: 1}
    page = c.get("/api/segments", params={"recording": added["recording_id"], "limit": 500}).json()
    assert page["total"] == len(segments) and {r["model"] for r in page["rows"]} == {DETECTOR}
    assert {r["recording"] for r in page["rows"]} == {"tapping by the window.wav"}
    assert c.get(f"/api/segments/{page['rows'][0]['id']}/similar").status_code == 200  # YAMNet's embeddings stored
    confident = c.get("/api/segments", params={"min_confidence": 0.01, "recording": added["recording_id"]}).json()
    assert confident["total"] == sum(s[2] != SILENT for s in segments)  # silent windows: confidence 0, left out


def test_a_text_search_finds_an_upload_by_an_audioset_tag(detecting, made):
    c, db = detecting
    got = upload(c, "mine.wav", made.gap.read_bytes())
    added = c.post(f"/api/uploads/{got['id']}/catalogue").json()
    tag = next(t["label"] for s in got["segments"] for t in s["tags"] if s["label"] != SILENT)
    names = Names(db.parent / "uploads")
    hits = catalog.query(db)
    needle = tag.casefold()
    want = [h for h in hits if needle in names.display(h.path).casefold() or needle in h.label.casefold()
            or any(needle in t.label.casefold() for t in h.tags)]
    found = c.get("/api/segments", params={"q": tag.upper(), "limit": 500}).json()
    assert found["total"] == len(want)
    ours = [r for r in found["rows"] if r["recording_id"] == added["recording_id"]]
    assert ours and all(r["model"] == DETECTOR and any(t["label"] == tag for t in r["tags"]) for r in ours)
    assert len(ours) == sum(any(t["label"] == tag for t in s["tags"]) for s in got["segments"])


def test_without_model_a_silent_upload_is_flagged_and_stored_as_silent_only(detecting):
    c, db = detecting
    out = io.BytesIO()
    sf.write(out, np.zeros(4 * 16000, np.float32), 16000, format="WAV", subtype="PCM_16")
    got = upload(c, "empty room.wav", out.getvalue())
    assert got["flags"] == [SILENT] and got["label"] == SILENT and got["confidence"] == 0
    assert got["segments"] and {(s["label"], s["confidence"]) for s in got["segments"]} == {(SILENT, 0.0)}
    added = c.post(f"/api/uploads/{got['id']}/catalogue").json()
    rows = c.get("/api/segments", params={"recording": added["recording_id"], "limit": 500}).json()["rows"]
    assert rows and {(r["label"], r["confidence"], tuple(r["flags"])) for r in rows} == {(SILENT, 0.0, (SILENT,))}
    assert c.get("/api/segments", params={"recording": added["recording_id"], "min_confidence": 0.01}).json()["total"] == 0


def test_the_verdict_on_generated_sounds_still_needs_model(made, loaded, tmp_path):
    assert set(NEEDS) == {"verdict", "vary", "sample"}
    app, _ = app_on_copy(made, tmp_path, Engines(vae=loaded.vae), generate_seconds=2.0)
    with TestClient(app) as c:
        missing = c.get("/api/config").json()["missing"]
        assert missing == {"verdict": NEEDS["verdict"][1], "vary": None, "sample": NEEDS["sample"][1], "similar": None}
        some = c.get("/api/segments").json()["rows"][0]["id"]
        varied = c.post("/api/generate/vary", json={"segment": some, "n": 1}).json()["results"]
        assert len(varied) == 2 and all(r["verdict"] is None for r in varied)  # the page shows NEEDS' line instead


def test_the_help_says_what_works_with_no_flags(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(["--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert " ".join(NO_FLAGS.split()) in out and "YAMNet's ASMR / speech detector" in out
