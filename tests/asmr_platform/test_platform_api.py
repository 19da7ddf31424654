"""`python -m asmr_platform` through its HTTP API (FastAPI's TestClient) on a catalogue of the small generated
corpus made with tiny trained runs: find, listen, similar, add, generate, and the safety rules."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict

import numpy as np
import soundfile as sf
from fastapi.testclient import TestClient
from serve_fixtures import ABSTAIN_THRESHOLD, app_on_copy

from asmr_audioset.abstain import OTHER
from asmr_classify import catalog
from asmr_classify.params import DETECTOR as DETECTOR_PARAMS
from asmr_classify.predict import Timeline, segment_embeddings
from asmr_classify.speech_detector import CLASSES as DETECTOR_CLASSES
from asmr_classify.speech_detector import UNSURE
from asmr_classify.speech_detector import model_id as detector_id
from asmr_generate.mel.generate import slug
from asmr_platform import find as find_module
from asmr_platform.__main__ import cli
from asmr_platform.app import create_app
from asmr_platform.engines import NEEDS, Engines
from asmr_platform.find import NO_EMBEDDINGS, Filters, Matches, find, parts
from asmr_platform.names import DETECTOR, Names
from audioprep.io import load_audio
from audioprep.quality import SILENT


def stored(db):
    """Every segment as the catalogue holds it: (path, start, end, label, confidence)."""
    return catalog.query(db)


def recording_id(client, name):
    return next(r["id"] for r in client.get("/api/config").json()["recordings"] if r["name"] == name)


# ---------------------------------------------------------------- Find


def test_find_filters_sorts_and_pages_like_the_catalogue(client, made):
    everything = stored(made.db)
    labels = sorted({r[3] for r in everything} - {OTHER, SILENT})[:2]  # two trigger labels
    got = client.get("/api/segments", params={"label": labels, "min_confidence": 0.1, "limit": 500}).json()
    want = [r for r in everything if r[3] in labels and r[4] >= 0.1]
    assert got["total"] == len(want) > 0 and len(got["rows"]) == len(want)
    assert {row["label"] for row in got["rows"]} == set(labels)
    confidences = [row["confidence"] for row in got["rows"]]
    assert confidences == sorted(confidences, reverse=True)

    by_length = client.get("/api/segments", params={"sort": "length", "min_length": 2.0, "limit": 500}).json()
    lengths = [row["end"] - row["start"] for row in by_length["rows"]]
    assert lengths == sorted(lengths, reverse=True) and min(lengths) >= 2.0
    assert by_length["total"] == sum(r[2] - r[1] >= 2.0 for r in everything)

    stereo = recording_id(client, "extra/stereo_44k.wav")
    one = client.get("/api/segments", params={"recording": stereo, "limit": 500}).json()
    assert one["total"] == sum(r[0] == str(made.stereo.resolve()) for r in everything) > 1
    assert {row["recording"] for row in one["rows"]} == {"extra/stereo_44k.wav"}

    pages = [client.get("/api/segments", params={"offset": o, "limit": 7}).json() for o in range(0, len(everything), 7)]
    assert [row["id"] for p in pages for row in p["rows"]] == [
        row["id"] for row in client.get("/api/segments", params={"limit": 500}).json()["rows"]]
    assert client.get("/api/segments", params={"limit": 0}).status_code == 422
    assert client.get("/api/segments", params={"min_confidence": 1.5}).status_code == 422


def _listing(table: dict, filters: Filters, flagged: set, names: dict, tags: list[str]) -> list[int]:
    """The ids `find` must list, by brute force over the segments' columns: unflagged recordings' segments,
    then (at minimum confidence 0) the flagged ones', each run sorted on its own. `table["tags"]` holds each
    segment's tags as indexes into `tags`."""
    rec, start, end, label, conf = (table[c] for c in ("recording", "start", "end", "label", "confidence"))
    needle = filters.text.casefold()
    named = np.array([False] + [needle in names[r].casefold() for r in range(1, len(names) + 1)])  # by recording id
    labelled = np.isin(label, [x for x in np.unique(label) if needle in x.casefold()])
    labelled |= np.isin(table["tags"], [i for i, t in enumerate(tags) if needle in t.casefold()]).any(axis=1)
    last = np.isin(rec, list(flagged))
    keep = ((~last | (filters.min_confidence <= 0)) & (conf >= filters.min_confidence)
            & (end - start >= filters.min_length) & (named[rec] | labelled)
            & (np.isin(label, filters.labels) if filters.labels else True)
            & ((rec == filters.recording) if filters.recording is not None else True))
    ids = np.arange(1, len(rec) + 1)
    value = conf if filters.sort == "confidence" else end - start
    order = np.lexsort((-ids, -value, last))  # flagged last, then by value and id, both descending
    return ids[order][keep[order]].tolist()


def test_each_filter_and_sort_is_backed_by_an_index_on_100000_segments(tmp_path):
    """EXPLAIN QUERY PLAN names the filter's index for the page and the count, no query scans the table, and
    the pages equal a brute-force listing, with the search text (names, labels, AudioSet tags) and with
    silent or short recordings last; the labels and tag names are listed by index seeks alone."""
    conn = catalog.connect(tmp_path / "big.sqlite")
    rng = np.random.default_rng(0)
    n, recordings = 100_000, 400
    labels = [f"label {i}" for i in range(9)]
    tags = ["Whispering", "Tapping", "Crumpling, crinkling", "Speech", "Rain", "Scratch", "Tap"]
    tagged = np.stack([rng.permutation(len(tags))[:2] for _ in range(n)])  # two tags a segment
    starts, lengths = rng.uniform(0, 3000, n), rng.exponential(5.0, n) + 0.5
    rows = list(zip(rng.integers(1, recordings + 1, n).tolist(), starts.tolist(), (starts + lengths).tolist(),
                    rng.choice(labels, n).tolist(), rng.uniform(0.1, 1.0, n).tolist(), strict=True))
    with catalog.write(conn):
        conn.executemany("INSERT INTO recordings (path, duration, sha256, model, classes, sample_rate, window_samples, "
                         "hop_samples, samples, probabilities, threshold) VALUES (?, 3600, '', 'm', '[]', 22050, 22050, "
                         "22050, 0, x'', 0)", [(f"/r/{i}.wav",) for i in range(recordings)])
        conn.executemany("INSERT INTO segments (recording_id, start, end, label, confidence) VALUES (?, ?, ?, ?, ?)", rows)
        for rank in range(tagged.shape[1]):  # segment ids are 1..n in insertion order
            conn.execute("INSERT INTO segment_tags (segment_id, rank, tag, score) SELECT key + 1, ?, value, 0.5 "
                         "FROM json_each(?)", (rank, json.dumps([tags[t] for t in tagged[:, rank]])))
    names = {i + 1: f"r/{i}.wav" for i in range(recordings)}
    columns = list(zip(*rows, strict=True))
    table = {c: np.array(v) for c, v in zip(("recording", "start", "end", "label", "confidence"), columns, strict=True)}
    table["tags"] = tagged
    cases = [(Filters(labels=("label 1", "label 2")), "segments_label"),
             (Filters(min_confidence=0.9), "segments_confidence"),
             (Filters(min_length=20.0), "segments_length"),
             (Filters(recording=7, sort="length"), "segments_recording"),
             (Filters(sort="length"), "segments_length"),
             (Filters(), "segments_confidence"),
             (Filters(labels=("label 3",), min_confidence=0.5, min_length=3.0, offset=50), "segments_label"),
             (Filters(text="7.WAV", sort="length"), "INTEGER PRIMARY KEY"),  # r/7.wav, r/17.wav, ...: by id
             (Filters(text="label 3", min_length=4.0, offset=30), "INTEGER PRIMARY KEY"),
             (Filters(text="3", labels=("label 1",), recording=4), "segments_recording"),
             (Filters(text="CRUMPL", min_confidence=0.5), "INTEGER PRIMARY KEY"),  # a tag alone
             (Filters(text="tap", labels=("label 2",), sort="length", offset=40), "INTEGER PRIMARY KEY")]  # 2 tags
    for flagged in (set(), {4, 8, 251}):  # recording ids 4 and 8 match text "3" and "7" (r/3.wav, r/7.wav)
        with catalog.write(conn):
            conn.execute("UPDATE recordings SET silent = id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(flagged))])
        for filters, index in cases:
            text = filters.text
            matches = None if not text else Matches(
                tuple(i for i, name in names.items() if text.casefold() in name.casefold()),
                tuple(label for label in labels if text.casefold() in label.casefold()),
                tuple(sorted(tag for tag in tags if text.casefold() in tag.casefold())))
            assert matches is None or matches == find_module.matching(conn, text, Names()), filters
            first = parts(filters, tuple(sorted(flagged)), matches)[0]
            for what, (sql, args) in (("page", first.page_sql(filters.sort, filters.offset, filters.limit)),
                                      ("count", first.count_sql())):
                plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
                if what == "page" or first.clauses:  # a count of everything reads the smallest index
                    assert any(index in step for step in plan), (filters, plan)
                assert all("INDEX" in step for step in plan if step.startswith("SCAN")), (filters, plan)
            page = find(conn, filters)
            want = _listing(table, filters, flagged, names, tags)
            assert page["total"] == len(want), filters
            assert [row["id"] for row in page["rows"]] == want[filters.offset:filters.offset + filters.limit], filters
        straddle = Filters(offset=sum(r[0] not in flagged for r in rows) - 3, limit=10)  # the page spans both runs
        assert [row["id"] for row in find(conn, straddle)["rows"]] == _listing(table, straddle, flagged, names, tags)[
            straddle.offset:straddle.offset + 10]
        assert all(row["flags"] == (["silent"] if 4 in flagged else []) for row in find(conn, Filters(recording=4))["rows"])
        assert find(conn, Filters(text="no such name"))["total"] == 0
    assert find_module.labels(conn) == labels and find_module.distinct(conn, "segment_tags", "tag") == sorted(tags)
    for table_name, column in (("segments", "label"), ("segment_tags", "tag")):
        sql = find_module.DISTINCT.format(table=table_name, column=column)
        plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        assert not any(step.startswith(f"SCAN {table_name}") for step in plan), plan
    row = find(conn, Filters(recording=4, limit=1))["rows"][0]
    assert row["tags"] == [{"label": tags[i], "score": 0.5} for i in tagged[row["id"] - 1]]
    conn.close()


# ---------------------------------------------------------------- Listen


def test_a_segment_plays_exactly_its_frames_at_the_files_rate_in_stereo(client, made):
    audio, sr = load_audio(made.stereo, mono=False)
    assert sr == 44100 and audio.shape[0] == 2
    rows = client.get("/api/segments", params={"recording": recording_id(client, "extra/stereo_44k.wav")}).json()["rows"]
    for row in rows[:3]:
        response = client.get(f"/api/segments/{row['id']}/audio")
        assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
        got, rate = sf.read(io.BytesIO(response.content), dtype="int16")
        first, stop = round(row["start"] * sr), round(row["end"] * sr)
        want = np.round(audio[:, first:stop].T * 32767).astype(np.int16)
        assert rate == 44100 and got.shape == want.shape == (stop - first, 2)
        assert np.array_equal(got, want)

    whole = client.get(f"/api/segments/{rows[0]['id']}/audio").content
    for asked, part in (("bytes=1000-2999", whole[1000:3000]), ("bytes=-10", whole[-10:]), ("bytes=0-60", whole[:61]),
                        (f"bytes=5-{len(whole) + 99}", whole[5:])):
        response = client.get(f"/api/segments/{rows[0]['id']}/audio", headers={"Range": asked})
        assert response.status_code == 206 and response.content == part, asked
        assert response.headers["content-range"].endswith(f"/{len(whole)}")
    assert client.get(f"/api/segments/{rows[0]['id']}/audio", headers={"Range": f"bytes={len(whole)}-"}).status_code == 416


def _verdicts(made, segment_id):
    """The segment's recording's stored window probabilities, and each window's verdict worked out here: the top
    class, `other` under the recording's abstain threshold, `silent` where the window was digital silence."""
    conn = catalog.connect(made.db, create=False)
    classes, sr, window, hop, samples, blob, abstain, silent = conn.execute(
        "SELECT classes, sample_rate, window_samples, hop_samples, samples, probabilities, abstain, silent_windows "
        "FROM recordings r JOIN segments s ON s.recording_id = r.id WHERE s.id = ?", (segment_id,)).fetchone()
    conn.close()
    classes = json.loads(classes)
    probs = np.frombuffer(blob, "<f2").reshape(-1, len(classes)).astype(np.float64)
    silent = np.frombuffer(silent, np.uint8).astype(bool)
    verdicts = [SILENT if quiet else classes[p.argmax()] if p.max() >= np.float32(abstain) else OTHER
                for p, quiet in zip(probs.astype(np.float32), silent, strict=True)]
    return classes, sr, window, hop, samples, probs, silent, verdicts


def test_the_mel_image_and_the_confidence_around_a_segment(client, made):
    rows = client.get("/api/segments", params={"sort": "length", "limit": 500}).json()["rows"]
    row = next(r for r in rows if r["label"] not in (OTHER, SILENT))  # the longest trigger segment
    png = client.get(f"/api/segments/{row['id']}/mel.png")
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"

    around = client.get(f"/api/segments/{row['id']}/confidence").json()
    classes, sr, window, hop, samples, probs, _, verdicts = _verdicts(made, row["id"])
    index = np.rint((np.array(around["times"]) * sr - window / 2) / hop).astype(int)
    whole = index * hop + window <= samples  # the last window's centre is capped at the recording's end
    assert whole.sum() >= len(index) - 1 and len(index) == len(probs)  # a 9 s recording is all within 15 s
    np.testing.assert_allclose(np.array(around["confidence"])[whole], probs[index[whole], classes.index(row["label"])],
                               atol=1e-4)
    assert around["top"] == verdicts and around["measure"] == f"p({row['label']})"
    assert around["label"] == row["label"] and around["start"] == row["start"]
    assert around["abstain"] == ABSTAIN_THRESHOLD


def test_other_and_silent_segments_are_listed_apart_played_and_drawn(client, made):
    """`other` (under the model's abstain threshold) and `silent` (digital silence) are labels the page lists,
    filters and plays, named as verdicts rather than triggers, and drawn by each window's top probability."""
    config = client.get("/api/config").json()
    assert config["none_of_these"] == [OTHER, SILENT] and {OTHER, SILENT} < set(config["labels"])
    assert config["labels"] == sorted({h.label for h in stored(made.db)})
    assert config["models"] == [{"name": "classifier/best.keras", "recordings": len(config["recordings"]),
                                 "abstain": ABSTAIN_THRESHOLD, "abstain_label": OTHER}]

    silent = client.get("/api/segments", params={"label": SILENT}).json()["rows"]
    assert silent and {r["recording"] for r in silent} == {"extra/gap.wav"} and {r["confidence"] for r in silent} == {0}
    gap = silent[0]
    assert 3.0 <= gap["start"] and gap["end"] <= 6.0 + 1e-9
    audio, _ = sf.read(io.BytesIO(client.get(f"/api/segments/{gap['id']}/audio").content))
    assert len(audio) == round((gap["end"] - gap["start"]) * 22050) and not audio.any()  # it plays: silence
    others = client.get("/api/segments", params={"label": OTHER, "limit": 500}).json()
    assert others["total"] == sum(h.label == OTHER for h in stored(made.db)) > 0
    assert all(0 < r["confidence"] < ABSTAIN_THRESHOLD for r in others["rows"])

    for row in (gap, others["rows"][0]):
        around = client.get(f"/api/segments/{row['id']}/confidence").json()
        classes, sr, window, hop, _, probs, quiet, verdicts = _verdicts(made, row["id"])
        assert around["measure"] == "top probability" and around["top"] == verdicts
        np.testing.assert_allclose(around["confidence"], np.where(quiet, 0.0, probs.max(axis=1)), atol=1e-4)
        starts = np.rint((np.array(around["times"]) * sr - window / 2) / hop) * hop / sr
        inside = [v for start, v in zip(starts, verdicts, strict=True) if row["start"] - 1e-6 <= start < row["end"] - 1e-6]
        assert inside and set(inside) == {row["label"]}


# ---------------------------------------------------------------- More like this


def test_segment_embeddings_are_the_unit_mean_of_their_windows():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.6, 0.4]], np.float32)
    emb = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float16)
    timeline = Timeline(probs, ["a", "b"], 100, 100, 100, 500, embeddings=emb)

    def unit(v):
        v = np.asarray(v, np.float64)
        return v / np.linalg.norm(v)

    segments, vectors = segment_embeddings(timeline)
    assert [(s.start, s.end, s.label) for s in segments] == [(0, 2, "a"), (2, 4, "b"), (4, 5, "a")]
    for vector, rows in zip(vectors, ([0, 1], [2, 3], [4]), strict=True):
        np.testing.assert_allclose(vector, unit(emb[rows].astype(np.float64).mean(axis=0)), atol=2e-3)
    segments, vectors = segment_embeddings(timeline, threshold=0.85)  # windows 0 and 3 are kept
    assert [(s.start, s.end, s.label) for s in segments] == [(0, 1, "a"), (3, 4, "b")]
    np.testing.assert_allclose(vectors, [unit(emb[0]), unit(emb[3])], atol=2e-3)
    assert segment_embeddings(Timeline(probs, ["a", "b"], 100, 100, 100, 500))[1] is None


def test_similar_lists_the_cosine_nearest_segments_of_other_recordings(client, made):
    conn = catalog.connect(made.db, create=False)
    rows = conn.execute("SELECT s.id, s.recording_id, e.vector FROM segments s "
                        "JOIN segment_embeddings e ON e.segment_id = s.id ORDER BY s.id").fetchall()
    assert len(rows) == conn.execute("SELECT count(*) FROM segments").fetchone()[0]  # every segment has one
    conn.close()
    ids = np.array([r[0] for r in rows])
    recordings = np.array([r[1] for r in rows])
    vectors = np.stack([np.frombuffer(r[2], "<f2") for r in rows]).astype(np.float32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=2e-3)
    for i in (0, len(rows) // 2):
        got = client.get(f"/api/segments/{ids[i]}/similar", params={"k": 5}).json()["rows"]
        sims = vectors @ vectors[i]
        sims[recordings == recordings[i]] = -np.inf
        assert [r["id"] for r in got] == ids[np.lexsort((ids, -sims))][:5].tolist()
        np.testing.assert_allclose([r["similarity"] for r in got], np.sort(sims)[::-1][:5], atol=1e-5)
        assert all(r["recording_id"] != recordings[i] for r in got)
    assert client.get("/api/segments/999999/similar").status_code == 404


def test_a_catalogue_without_embeddings_hides_similar_with_its_reason(writable):
    c, db = writable
    assert c.get("/api/config").json()["missing"]["similar"] is None
    catalog.remerge(db, 0.0)  # re-merged without the model: no embeddings
    assert c.get("/api/config").json()["missing"]["similar"] == NO_EMBEDDINGS
    some = c.get("/api/segments").json()["rows"][0]["id"]
    response = c.get(f"/api/segments/{some}/similar")
    assert response.status_code == 409 and response.json()["detail"] == NO_EMBEDDINGS


# ---------------------------------------------------------------- Add


def test_an_upload_is_classified_and_added_as_catalog_would(writable, made, loaded):
    c, db = writable
    source = sorted(made.corpus.rglob("*.wav"))[0]
    upload = c.post("/api/uploads", params={"name": "../../../etc/my take.wav"}, content=source.read_bytes())
    assert upload.status_code == 200, upload.text
    got = upload.json()
    assert got["name"] == "my take.wav" and got["label"] in [*loaded.classifier.classes, OTHER]
    assert got["model"] == "classifier/best.keras"  # --model's classifier labels it, as `catalog` did the corpus
    assert got["confidence"] == max(got["probabilities"].values())
    assert (got["label"] == OTHER) == (got["confidence"] < ABSTAIN_THRESHOLD)
    assert len(got["tags"]) == 3 and all(0 < t["score"] <= 1 for t in got["tags"])
    catalogued = sorted((r[1], r[2], r[3], r[4], [asdict(t) for t in r.tags])
                        for r in stored(db) if r[0] == str(source.resolve()))
    assert [(s["start"], s["end"], s["label"], s["confidence"], s["tags"]) for s in got["segments"]] == catalogued

    assert got["flags"] == [] and got["warnings"] == []

    added = c.post(f"/api/uploads/{got['id']}/catalogue").json()
    assert added["status"] == "added" and added["name"] == "my take.wav"  # the user's name, no server prefix
    assert added["model"] == "classifier/best.keras"
    assert {r["model"] for r in c.get("/api/config").json()["recordings"]} == {"classifier/best.keras"}
    assert (db.parent / "uploads" / got["id"][:12] / "my take.wav").read_bytes() == source.read_bytes()
    page = c.get("/api/segments", params={"recording": added["recording_id"]}).json()
    assert page["total"] == len(catalogued) and {row["recording"] for row in page["rows"]} == {"my take.wav"}
    assert {row["model"] for row in page["rows"]} == {"classifier/best.keras"}
    assert c.get(f"/api/segments/{page['rows'][0]['id']}/similar").status_code == 200  # embeddings stored too
    assert c.post(f"/api/uploads/{got['id']}/catalogue").status_code == 404  # added once
    assert list((db.parent / "work").iterdir()) == []  # nothing of the upload is left behind


def test_uploads_are_size_limited_and_checked_like_every_file(made, loaded, tmp_path):
    app, _ = app_on_copy(made, tmp_path, loaded, upload_max_mb=0.05)
    wav = sorted(made.corpus.rglob("*.wav"))[0].read_bytes()
    assert len(wav) > 0.05 * (1 << 20)
    with TestClient(app) as c:
        for name, body, status, says in (
            ("big.wav", wav, 413, "big.wav: larger than the upload limit of 0.05 MB"),
            ("notes.txt", b"hello", 415, "notes.txt: not an audio file"),
            ("broken.wav", b"RIFF\x00\x00\x00\x00WAVEjunk" * 10, 422, "broken.wav: cannot decode audio"),
            ("empty.flac", b"", 422, "empty.flac: empty file (0 bytes)"),
        ):
            response = c.post("/api/uploads", params={"name": name}, content=body)
            assert response.status_code == status and response.json()["detail"].startswith(says), response.text
            assert "\n" not in response.json()["detail"]
    assert list((tmp_path / "work").iterdir()) == []


# ---------------------------------------------------------------- Generate


def _wav(c, result):
    response = c.get(result["audio"])
    audio, rate = sf.read(io.BytesIO(response.content))
    assert rate == 22050 and audio.ndim == 1 and len(audio) > 0 and np.isfinite(audio).all()
    assert c.get(result["mel"]).content[:4] == b"\x89PNG"
    return response.content


def test_vary_blend_and_sample_play_draw_judge_and_download(client, made, loaded):
    rows = client.get("/api/segments", params={"sort": "length"}).json()["rows"]
    varied = client.post("/api/generate/vary", json={"segment": rows[0]["id"], "n": 2}).json()["results"]
    assert [r["name"] for r in varied] == ["input", "variation_01", "variation_02"]
    sounds = [_wav(client, r) for r in varied]
    assert len(set(sounds)) == 3
    for r in varied:  # a trigger label at or above the abstain threshold, else `other`
        label, confidence = r["verdict"]["label"], r["verdict"]["confidence"]
        assert label in loaded.classifier.classes and ABSTAIN_THRESHOLD <= confidence <= 1 or (
            label == OTHER and 0 < confidence < ABSTAIN_THRESHOLD), r["verdict"]
        assert r["verdict"]["tags"] and all(set(t) == {"label", "score"} for t in r["verdict"]["tags"])
    download = client.get(varied[1]["audio"], params={"download": True})
    assert download.headers["content-disposition"].startswith('attachment; filename="variation_01.wav"')
    assert download.content == sounds[1]

    blended = client.post("/api/generate/blend", json={"a": rows[0]["id"], "b": rows[1]["id"], "alpha": 0.25}).json()
    assert [r["name"] for r in blended["results"]] == ["a", "b", "blend_alpha0.25"]
    _wav(client, blended["results"][2])
    assert client.post("/api/generate/blend", json={"a": rows[0]["id"], "b": rows[1]["id"], "alpha": 1.5}).status_code == 422
    assert client.post("/api/generate/vary", json={"segment": rows[0]["id"], "n": 99}).status_code == 422
    assert client.post("/api/generate/vary", json={"segment": 999999}).status_code == 404

    labels = loaded.cgan.classes
    sampled = client.post("/api/generate/sample", json={"label": labels[0], "blend_with": labels[1], "n": 2}).json()
    assert [r["name"] for r in sampled["results"]] == [f"{slug(labels[0])}+{slug(labels[1])}_0{i}" for i in (1, 2)]
    first = _wav(client, sampled["results"][0])
    again = client.post("/api/generate/sample", json={"label": labels[0], "blend_with": labels[1], "n": 2}).json()
    assert client.get(again["results"][0]["audio"]).content == first  # seeded: the same request, the same sound
    other = client.post("/api/generate/sample", json={"label": labels[0], "blend_with": labels[1], "n": 2, "seed": 1})
    assert client.get(other.json()["results"][0]["audio"]).content != first
    bad = client.post("/api/generate/sample", json={"label": "no such label"})
    assert bad.status_code == 422 and "no such label" in bad.json()["detail"]


def test_a_catalogue_of_the_speech_detector_is_named_and_its_verdicts_listed(made, tmp_path):
    """`catalog` without --model labels with YAMNet's ASMR / speech detector: the page names it, and lists,
    plays and draws its asmr / speech / unsure / silent segments, `unsure` and `silent` as verdicts."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for recording in (made.stereo, made.gap):
        shutil.copy(recording, folder / recording.name)
    db = tmp_path / "detector.sqlite"
    assert catalog.build_catalog(folder, None, db, progress=False)["added"] == 2
    (tmp_path / "work").mkdir()
    with TestClient(create_app(db, Engines(), tmp_path / "work", tmp_path / "uploads")) as c:
        config = c.get("/api/config").json()
        assert config["models"] == [{"name": DETECTOR, "recordings": 2, "abstain": DETECTOR_PARAMS.speech_at,
                                     "abstain_label": UNSURE}]
        assert config["none_of_these"] == [SILENT, UNSURE]
        assert SILENT in config["labels"] and set(config["labels"]) <= {*DETECTOR_CLASSES, UNSURE, SILENT}
        everything = c.get("/api/segments", params={"limit": 500}).json()
        assert everything["total"] == len(catalog.query(db))
        for label in config["labels"]:
            rows = c.get("/api/segments", params={"label": label, "limit": 500}).json()["rows"]
            assert rows and {r["label"] for r in rows} == {label} and all(r["tags"] for r in rows)
            around = c.get(f"/api/segments/{rows[0]['id']}/confidence").json()
            assert around["measure"] == (f"p({label})" if label in DETECTOR_CLASSES else "top probability")
            assert set(around["top"]) <= set(config["labels"]) and around["abstain"] == DETECTOR_PARAMS.speech_at
            assert c.get(f"/api/segments/{rows[0]['id']}/audio").status_code == 200
        similar = c.get(f"/api/segments/{everything['rows'][0]['id']}/similar").json()["rows"]
        assert similar and all(r["recording_id"] != everything["rows"][0]["recording_id"] for r in similar)


def test_missing_runs_hide_their_features_with_one_line_each(made, tmp_path):
    app, _ = app_on_copy(made, tmp_path, Engines())
    with TestClient(app) as c:
        missing = c.get("/api/config").json()["missing"]
        assert missing == {"verdict": NEEDS["verdict"][1], "vary": NEEDS["vary"][1], "sample": NEEDS["sample"][1],
                           "similar": None}
        some = c.get("/api/segments").json()["rows"][0]["id"]
        for url, body, feature in (("/api/generate/vary", {"segment": some}, "vary"),
                                   ("/api/generate/sample", {"label": "mukbang"}, "sample")):
            response = c.post(url, json=body)
            assert response.status_code == 409 and response.json()["detail"] == NEEDS[feature][1]
        upload = c.post("/api/uploads", params={"name": "a.wav"}, content=b"x")  # add needs no run: it decodes
        assert upload.status_code == 422 and upload.json()["detail"].startswith("a.wav: ")
        assert c.get(f"/api/segments/{some}/audio").status_code == 200  # find and listen need no run


# ---------------------------------------------------------------- Safety


def test_only_catalogued_files_can_be_read(client):
    for url in ("/api/segments/..%2F..%2F..%2Fetc%2Fpasswd/audio", "/api/segments/%2Fetc%2Fpasswd/audio",
                "/api/segments/-1/audio", "/api/segments/1.5/mel.png", "/api/results/..%2F..%2Fetc%2Fpasswd/audio",
                "/api/results/%2Fetc%2Fpasswd/mel.png", "/api/results/0123456789abcdef/audio",
                "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/static/..%2Fapp.py", "/static/%2Fetc%2Fpasswd"):
        response = client.get(url)
        assert response.status_code in (404, 422), url
        assert b"root:" not in response.content and b"import" not in response.content, url
    for upload_id in ("..%2F..%2Fetc%2Fpasswd", "a" * 64):
        assert client.post(f"/api/uploads/{upload_id}/catalogue").status_code in (404, 422)


def test_a_catalogue_being_written_stays_readable(writable):
    c, db = writable
    writer = catalog.connect(db)
    before = c.get("/api/segments").json()["total"]
    with catalog.write(writer):
        writer.execute("INSERT INTO segments (recording_id, start, end, label, confidence) VALUES (1, 0, 1, 'new', 1.0)")
        started = time.monotonic()
        assert c.get("/api/segments").json()["total"] == before  # the reader sees the last commit at once
        assert c.get("/api/config").status_code == 200
        assert time.monotonic() - started < 5.0
    assert c.get("/api/segments", params={"label": "new"}).json()["total"] == 1
    writer.close()


# ---------------------------------------------------------------- the command


def test_the_command_serves_the_page_adds_with_the_detector_and_names_what_is_hidden(made, tmp_path):
    """The first command, with --db alone: the page, and an upload labelled by the ASMR / speech detector."""
    db = tmp_path / "catalog.sqlite"
    db.write_bytes(made.db.read_bytes())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "asmr_platform", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline, page = time.monotonic() + 60, None
        while page is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                time.sleep(0.2)
        assert page is not None and "<title>ASMR trigger catalogue</title>" in page
        script = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.js", timeout=5).read().decode()
        assert "http://" not in script and "https://" not in script  # nothing fetched from elsewhere
        sent = urllib.request.Request(f"http://127.0.0.1:{port}/api/uploads?name=gap.wav", made.gap.read_bytes())
        got = json.loads(urllib.request.urlopen(sent, timeout=60).read())
        assert got["model"] == DETECTOR and {s["label"] for s in got["segments"]} <= {*DETECTOR_CLASSES, UNSURE, SILENT}
        added = urllib.request.Request(f"http://127.0.0.1:{port}/api/uploads/{got['id']}/catalogue", method="POST")
        assert json.loads(urllib.request.urlopen(added, timeout=60).read())["status"] == "added"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"serving {db} at http://127.0.0.1:{port}/" in out
    assert [line for line in err.splitlines() if line.startswith("note: ")] == [
        f"note: {NEEDS[f][1]}" for f in ("verdict", "vary", "sample")]
    conn = catalog.connect(db, create=False)
    by_detector = conn.execute("SELECT path FROM recordings WHERE model = ?", (detector_id(),)).fetchall()
    conn.close()
    assert by_detector == [(str((tmp_path / "catalog-uploads" / got["id"][:12] / "gap.wav").resolve()),)]


def test_the_command_names_a_missing_catalogue_in_one_line(tmp_path, capsys):
    assert cli(["--db", str(tmp_path / "none.sqlite")]) == 2
    assert capsys.readouterr().err == (f"error: --db {tmp_path / 'none.sqlite'}: no such catalogue "
                                       "(make one with `asmr_classify catalog DIR --db F`)\n")
