"""Uploads under their users' names, the search text, and silent or short recordings flagged and never
ranked as confident triggers, through the app's API on a copy of the small catalogue."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import soundfile as sf

from asmr_audioset.params import TAGS
from asmr_classify import catalog
from asmr_platform.names import Names, upload_name
from audioprep.quality import SILENT


def wav(samples, rate: int = 22050) -> bytes:
    out = io.BytesIO()
    sf.write(out, np.asarray(samples, np.float32), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def upload(c, name: str, body: bytes) -> dict:
    response = c.post("/api/uploads", params={"name": name}, content=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_silent_and_short_uploads_are_flagged_and_never_listed_as_confident(writable, tmp_path):
    c, db = writable
    silent = upload(c, "quiet room.wav", wav(np.zeros(3 * 22050)))
    short = upload(c, "click.wav", wav([0.5]))  # one sample
    assert silent["flags"] == ["silent"] and short["flags"] == ["short"]
    assert silent["warnings"] == ["quiet room.wav: digital silence: no sample above 3.1e-05 (one 16-bit step)"]
    assert len(short["warnings"]) == 1
    assert short["warnings"][0].startswith("click.wav: too short to classify: 4.54e-05 s of audio, under a tenth")
    assert str(tmp_path) not in str(silent) + str(short)
    for pending in (silent, short):
        assert c.post(f"/api/uploads/{pending['id']}/catalogue").json()["status"] == "added"

    config = c.get("/api/config").json()
    flagged = {r["id"]: r["flags"] for r in config["recordings"] if r["flags"]}
    assert sorted(flagged.values()) == [["short"], ["silent"]]
    everything = c.get("/api/segments", params={"limit": 500}).json()["rows"]
    marks = [row["recording_id"] in flagged for row in everything]
    assert marks == sorted(marks) and sum(marks) >= 2  # every flagged segment after every other one
    assert all(row["flags"] == flagged[row["recording_id"]] for row, mark in zip(everything, marks, strict=True) if mark)
    by_length = c.get("/api/segments", params={"sort": "length", "limit": 500}).json()["rows"]
    assert [row["recording_id"] in flagged for row in by_length] == sorted(marks)
    confident = c.get("/api/segments", params={"min_confidence": 0.01, "limit": 500}).json()
    quiet = sum(row["label"] == SILENT for row, mark in zip(everything, marks, strict=True) if not mark)
    assert quiet > 0 and confident["total"] == len(everything) - sum(marks) - quiet  # silent gaps: confidence 0
    assert not any(row["recording_id"] in flagged for row in confident["rows"])
    assert confident["total"] == len(catalog.query(db, min_confidence=0.01))  # as `catalog query` lists them
    one = c.get(f"/api/segments/{everything[-1]['id']}").json()
    assert one["flags"] and one["recording"] in ("quiet room.wav", "click.wav")


def test_uploads_keep_their_names_apart_and_the_search_finds_them(writable, made):
    c, db = writable
    first, second = sorted(made.corpus.rglob("*.wav"))[:2]
    added, ids = [], []
    for source in (first, second):  # two different recordings under one name
        pending = upload(c, "C:\\fakepath\\Rain on tin.wav", source.read_bytes())
        assert pending["name"] == "Rain on tin.wav"
        ids.append(pending["id"])
        added.append(c.post(f"/api/uploads/{pending['id']}/catalogue").json())
        assert added[-1]["name"] == "Rain on tin.wav"
        folder = db.parent / "uploads" / pending["id"][:12]
        assert (folder / "Rain on tin.wav").read_bytes() == source.read_bytes()
    assert added[0]["recording_id"] != added[1]["recording_id"]
    names = [r["name"] for r in c.get("/api/config").json()["recordings"]]
    assert names.count("Rain on tin.wav") == 2 and not any(name.endswith("-Rain-on-tin.wav") for name in names)

    found = c.get("/api/segments", params={"q": "rain ON", "limit": 500}).json()
    assert {row["recording_id"] for row in found["rows"]} == {a["recording_id"] for a in added}
    assert {row["recording"] for row in found["rows"]} == {"Rain on tin.wav"}
    for hidden in ("fakepath", "uploads", ids[0][:12]):  # only the user's name is kept, and only it is shown
        assert c.get("/api/segments", params={"q": hidden}).json()["total"] == 0, hidden


def test_the_search_text_matches_recording_names_labels_and_audioset_tags(client, made):
    names = Names()
    hits = catalog.query(made.db)
    label = sorted({h.label for h in hits})[0]
    tag_counts = Counter(t.label for h in hits for t in h.tags)
    common, rare = tag_counts.most_common()[0][0], tag_counts.most_common()[-1][0]
    for text in ("stereo", label[1:4].upper(), "wav", "nothing like it", common.lower(), rare[:5].upper(), "oth"):
        needle = text.casefold()
        want = [h for h in hits if needle in names.display(h.path).casefold() or needle in h.label.casefold()
                or any(needle in t.label.casefold() for t in h.tags)]
        got = client.get("/api/segments", params={"q": text, "limit": 500}).json()
        assert got["total"] == len(want), text
        assert sorted((r["start"], r["end"], r["label"]) for r in got["rows"]) == sorted((h.start, h.end, h.label) for h in want)
        if text == "stereo":
            assert {r["recording"] for r in got["rows"]} == {"extra/stereo_44k.wav"}
    tagged = client.get("/api/segments", params={"q": rare, "limit": 500}).json()["rows"]
    assert tagged and all(any(t["label"] == rare for t in r["tags"]) for r in tagged)
    assert len(tagged) == len(catalog.query(made.db, tag=rare))  # as `catalog query --tag` finds them
    assert client.get("/api/segments", params={"q": "x" * 201}).status_code == 422


def test_each_segment_carries_its_stored_audioset_tags(client, made):
    conn = catalog.connect(made.db, create=False)
    stored = catalog.segment_tags(conn, [r[0] for r in conn.execute("SELECT id FROM segments")])
    conn.close()
    rows = client.get("/api/segments", params={"limit": 500}).json()["rows"]
    assert len(rows) == len(stored) and all(len(r["tags"]) == TAGS.stored for r in rows)  # every segment is tagged
    for row in rows:
        assert row["tags"] == [{"label": t.label, "score": t.score} for t in stored[row["id"]]]
        assert [t["score"] for t in row["tags"]] == sorted((t["score"] for t in row["tags"]), reverse=True)
    assert client.get(f"/api/segments/{rows[0]['id']}").json()["tags"] == rows[0]["tags"]
    similar = client.get(f"/api/segments/{rows[0]['id']}/similar").json()["rows"]
    assert similar and all(r["tags"] == [{"label": t.label, "score": t.score} for t in stored[r["id"]]] for r in similar)


def test_an_upload_name_is_its_last_component_cut_to_fit():
    assert upload_name("../../etc/my take.wav") == "my take.wav"
    assert upload_name("C:\\Users\\me\\ASMR\u0007 tapping.FLAC ") == "ASMR tapping.FLAC"
    long = upload_name("é" * 300 + ".wav")
    assert long.endswith("é.wav") and len(long.encode()) <= 200
    assert upload_name("../..") == ".."  # no extension: refused as not audio before it is kept
