"""render_docs renders the benchmark rows from results/benchmarks/NAME.json: ratio, run date and load, each goal
met or missed with its distance, and long_audio's runs; a missing, quick or unreadable file is one line."""

from __future__ import annotations

import json

import pytest

from experiments import render_docs

GOALS = {"rss": {"goal": "peak RSS <= 1024 MB on the 10 h wav", "value": 998, "met": True, "distance": "26 MB under"},
         "YAMNet detector": {"goal": ">= 150x real time end to end", "value": 120.5, "met": False,
                             "distance": "1.24x too slow: 29.9 s against the 24.0 s allowed"}}
RUN = {"name": "catalog long.mp3 (1 h, YAMNet detector)", "audio_seconds": 3600.0, "wall": 29.87, "rss_mb": 180.2,
       "cpu": 25.04, "after_start": 28.5, "stages": {"decode": 12.25, "model": 20.5}, "x_real_time": 120.5,
       "x_real_time_after_start": 126.3}


def long_audio(**changes) -> dict:
    return {"benchmark": "long_audio", "quick": False, "date": "2026-12-08T10:00:00+00:00",
            "machine": {"cpu": "AMD EPYC", "cores": 2}, "data": "generated tones", "weights": "untrained (f)",
            "load_average": {"start": [2.5, 3.0, 3.5], "end": [4.25, 4.0, 3.9]}, "runs": {"catalog mp3 detector": RUN},
            "goals": GOALS, "ratio": 1.71, **changes}


def cold_start() -> dict:
    return {"benchmark": "cold_start", "quick": False, "date": "2026-12-07T13:02:11+00:00",
            "load_average": {"start": [4.65, 6.3, 7.32], "rounds": [3.09, 2.95, 2.72], "end": [3.11, 4.74, 6.53]},
            "goals": {"predict": {"goal": "<= 3 s", "value": 1.659, "met": True, "distance": "1.34 s under"}},
            "ratio": 4.37}


def embedding_cache() -> dict:
    return {"benchmark": "embedding_cache", "quick": False, "date": "2026-12-07T15:55:00+00:00",
            "load_average": {"start": [2.27, 3.29, 5.92], "end": [3.56, 3.44, 5.73]},
            "goals": {"second pass": {"goal": "<= 10 s", "value": 9.5, "met": True, "distance": "0.50 s under"}},
            "ratio": 7.5}


def one_goal(name: str, ratio: float) -> dict:
    """A results file of a benchmark that records one `>= 3x` goal (features, inversion, wavegen, ...)."""
    return {"benchmark": name, "quick": False, "date": "2026-12-07T18:00:00+00:00",
            "load_average": {"start": [4.5, 4.0, 3.5], "end": [5.5, 4.5, 4.0]},
            "goals": {"speed": {"goal": ">= 3x", "value": ratio, "met": True, "distance": f"{ratio / 3:.2f}x the goal"}},
            "ratio": ratio}


LATER = ("features", "inversion", "wavegen", "lean_device", "loader")  # the rows after the first three, in order


@pytest.fixture
def repo(tmp_path):
    folder = tmp_path / "results" / "benchmarks"
    folder.mkdir(parents=True)
    (folder / "long_audio.json").write_text(json.dumps(long_audio()))
    (folder / "cold_start.json").write_text(json.dumps(cold_start()))
    (folder / "embedding_cache.json").write_text(json.dumps(embedding_cache()))
    for i, name in enumerate(LATER):
        (folder / f"{name}.json").write_text(json.dumps(one_goal(name, 4.0 + i)))
    (tmp_path / "README.md").write_text("intro\n<!-- results:benchmarks -->\nstale row\n<!-- /results:benchmarks -->\nend\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "benchmarks.md").write_text("<!-- results:bench-long_audio -->\n<!-- /results:bench-long_audio -->\n")
    return tmp_path


def test_benchmark_rows_and_runs_are_rendered_from_their_json(repo, capsys):
    assert render_docs.main(["--root", str(repo)]) == 0
    readme = (repo / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| [`benchmarks/")]
    assert rows[0].startswith("| [`benchmarks/cold_start.py`](benchmarks/cold_start.py) |")
    assert rows[0].endswith("| 2026-12-07, load 2.7-4.7 | 4.37 | predict, <= 3 s: met (1.659; 1.34 s under) |")
    assert rows[1].endswith(
        "| 2026-12-08, load 2.5-4.2 | 1.71 | rss, peak RSS <= 1024 MB on the 10 h wav: met (998; 26 MB under); "
        "YAMNet detector, >= 150x real time end to end: **missed** (120.5; 1.24x too slow: 29.9 s against the "
        "24.0 s allowed) |")
    assert rows[2].endswith("| 2026-12-07, load 2.3-3.6 | 7.5 | second pass, <= 10 s: met (9.5; 0.50 s under) |")
    assert len(rows) == 3 + len(LATER)
    for i, (row, name) in enumerate(zip(rows[3:], LATER, strict=True)):
        assert row.startswith(f"| [`benchmarks/{name}.py`](benchmarks/{name}.py) |")
        assert row.endswith(f"| 2026-12-07, load 4.5-5.5 | {4.0 + i:g} | speed, >= 3x: met ({4.0 + i}; "
                            f"{(4.0 + i) / 3:.2f}x the goal) |")
    assert readme.startswith("intro\n") and readme.endswith("end\n") and "stale row" not in readme
    page = (repo / "docs" / "benchmarks.md").read_text()
    assert ("| catalog long.mp3 (1 h, YAMNet detector) | 120.5 | 126.3 | 29.9 | 25.0 | 180 | decode 12.2, model 20.5 |"
            in page)
    assert "load average 2.5, 3.0, 3.5 at the start, 4.25, 4.0, 3.9 at the end" in page and "`ratio: 1.71`" in page
    assert render_docs.main(["--root", str(repo), "--check"]) == 0
    path = repo / "results" / "benchmarks" / "long_audio.json"
    path.write_text(json.dumps(long_audio(ratio=1.8)))
    assert render_docs.main(["--root", str(repo), "--check"]) == 1
    assert "README.md: block results:benchmarks disagrees" in capsys.readouterr().err


@pytest.mark.parametrize(("write", "message"), [
    (None, "results/benchmarks/long_audio.json: missing; run `python benchmarks/long_audio.py` to write it"),
    ("{", "results/benchmarks/long_audio.json: not valid JSON"),
    (json.dumps(long_audio(quick=True)), "results/benchmarks/long_audio.json: not a full run's results"),
    (json.dumps(long_audio(goals={"rss": {"goal": "x"}})),
     "results/benchmarks/long_audio.json: cannot be rendered (KeyError 'met')"),
])
def test_a_bad_benchmark_file_is_one_line_and_writes_nothing(repo, capsys, write, message):
    path = repo / "results" / "benchmarks" / "long_audio.json"
    if write is None:
        path.unlink()
    else:
        path.write_text(write)
    before = (repo / "README.md").read_text()
    assert render_docs.main(["--root", str(repo)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"render_docs: {message}") and len(err.splitlines()) == 1
    assert (repo / "README.md").read_text() == before
