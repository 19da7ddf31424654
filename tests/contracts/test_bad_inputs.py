"""Every file-reading command over the bad-input corpus (tests/bad_inputs.py): one line per problem file
naming it, the rest of the files finished, nothing else on stderr (no decoder chatter, no traceback).

The commands run in this process, as user nobody when the tests run as root (bad_inputs.as_unprivileged),
so the chmod-000 file is unreadable for them; each runs once as root on a good file first (`warm`), so
the modules it imports lazily are loaded while root's site-packages can be read. Each package gets one
tiny model trained for one epoch on random inputs: what is checked here does not depend on what a
model learned.
"""

from __future__ import annotations

import functools
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest
from bad_inputs import as_unprivileged, write_corpus

from asmr_classify.__main__ import main as classify
from asmr_generate.__main__ import main as generate
from audioprep.__main__ import main as audioprep
from audioprep.files import write_json
from audioprep.params import MelSliceParams
from lean.__main__ import main as lean_cli
from lean.params import LeanParams

WARNING = {"short": "too short to classify", "silent": "digital silence", "truncated": "truncated: audio stops at"}


@pytest.fixture(scope="module")
def world():
    """A world-readable folder for the corpus and models, and a world-writable one for outputs."""
    root = Path(tempfile.mkdtemp(prefix="bad_inputs_"))
    root.chmod(0o755)
    (root / "out").mkdir(mode=0o777)
    (root / "out").chmod(0o777)
    yield root
    shutil.rmtree(root)


@pytest.fixture(scope="module")
def corpus(world):
    folder = world / "corpus"
    return folder, write_corpus(folder)


def _fit_once(model, classes: int) -> None:
    x = np.random.default_rng(0).standard_normal((8, *model.input_shape[1:])).astype(np.float32)
    model.fit(x, np.arange(8) % classes, epochs=1, batch_size=8, verbose=0)


@pytest.fixture(scope="module")
def classifier(world):
    """A DeepASMR (f) run folder: 8 filters, one epoch, params.json as `asmr_classify train` writes it."""
    import keras

    from asmr_classify import models

    keras.utils.set_random_seed(0)
    model = models.build("deepasmr", filters=8, dense_units=16)
    classes = model.output_shape[-1]
    _fit_once(model, classes)
    run = world / "classifier"
    run.mkdir()
    model.save(run / "best.keras")
    mel = MelSliceParams()
    write_json(run / "params.json", {"classes": [f"trigger {i}" for i in range(classes)], "kind": "mel",
                                     "window_samples": mel.slice_samples, "sample_rate": mel.sample_rate})
    return run


@pytest.fixture(scope="module")
def tagger(world):
    """A model with LEAN's contract (one patch of waveform in, sigmoid scores out) and its labels in params.json."""
    import keras

    keras.utils.set_random_seed(0)
    patch = LeanParams().patch_samples
    model = keras.Sequential([keras.Input((patch,)), keras.layers.Reshape((patch // 160, 160)),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    x = np.random.default_rng(0).uniform(-0.3, 0.3, (8, patch)).astype(np.float32)
    model.fit(x, np.eye(3)[np.arange(8) % 3], epochs=1, verbose=0)
    run = world / "tagger"
    run.mkdir()
    model.save(run / "best.keras")
    write_json(run / "params.json", {"classes": ["Knock", "Rain", "Speech"]})
    return run


@pytest.fixture(scope="module")
def autoencoder(world):
    """The mel AE, 4 filters and an 8-d latent, one epoch."""
    import keras

    from asmr_generate.mel.models import build
    from asmr_generate.mel.params import AEParams

    keras.utils.set_random_seed(0)
    mel = MelSliceParams()
    model = build("ae", AEParams(filters=4, latent_dim=8, decoder_depth=2), mel.frames, mel.n_mels, -10.0, 2.0)
    x = np.random.default_rng(0).uniform(-10, 2, (8, mel.frames, mel.n_mels)).astype(np.float32)
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    model.save(world / "ae.keras")
    return world / "ae.keras"


def warm(cli, argv: list[str], capsys) -> None:
    """Run a command once as the current user on a good file; its output is not what is tested."""
    assert cli(argv) == 0
    capsys.readouterr()


def one_good_file(world: Path, folder: Path) -> Path:
    """A folder holding only the corpus's good pcm24.wav: a folder command warmed on it imports, as the current
    user, all it will import (a progress bar's tqdm too), which user nobody may not be able to read."""
    one = world / "warm" / "one"
    one.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / "pcm24.wav", one)
    return one


def messages(err: str) -> list[str]:
    """stderr's lines without the progress bar (tqdm redraws it after carriage returns)."""
    parts = (part.strip() for part in re.split(r"[\r\n]", err))
    return [part for part in parts if part and not part.startswith("cataloguing:")]


def lines_about(text: str, path: Path) -> list[str]:
    return [line for line in messages(text) if f"{path}:" in line]


def expected(case, folder: Path, error_prefix: str = "error: ") -> list[str]:
    """The start of each line a classifying command prints about `case`, in order."""
    path = folder / case.name
    if case.error:
        return [f"{error_prefix}{path}: {case.error}"]
    return [f"warning: {path}: {WARNING[flag]}" for flag in case.flags]


def assert_outcomes(err: str, folder: Path, cases, error_prefix: str = "error: ") -> None:
    for case in cases:
        got, want = lines_about(err, folder / case.name), expected(case, folder, error_prefix)
        assert len(got) == len(want) and all(g.startswith(w) for g, w in zip(got, want, strict=True)), (case, got)


def test_corpus_cases_are_what_they_claim(corpus):
    folder, cases = corpus
    assert len(cases) == 16
    assert sorted(p.name for p in folder.iterdir()) == sorted(c.name for c in cases)
    assert (folder / "unreadable.wav").stat().st_mode & 0o777 == 0


def test_inspect_calls_readable_exactly_what_the_loaders_read(corpus, world, capsys):
    folder, cases = corpus
    warm(audioprep, ["inspect", str(one_good_file(world, folder))], capsys)
    with as_unprivileged():
        assert audioprep(["inspect", str(folder)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    bad = [c for c in cases if c.error]
    assert f"files: {len(cases)} ({len(cases) - len(bad)} readable)" in captured.out
    assert f"  bad files: {len(bad)}" in captured.out
    for case in cases:
        got = lines_about(captured.out, folder / case.name)
        if case.error:
            assert len(got) == 1 and got[0].startswith(f"{folder / case.name}: {case.error}"), got
        elif "truncated" in case.flags:
            assert len(got) == 1 and f"{case.name}: truncated: audio stops at" in got[0], got
        else:
            assert got == [], got


def test_predict_names_each_bad_file_once_and_classifies_the_rest(corpus, classifier, capsys):
    folder, cases = corpus
    warm(classify, ["predict", "--model", str(classifier), str(folder / "pcm24.wav")], capsys)
    with as_unprivileged():
        code = classify(["predict", "--model", str(classifier), *(str(folder / c.name) for c in cases)])
    captured = capsys.readouterr()
    bad = [c for c in cases if c.error]
    assert code == 1
    assert_outcomes(captured.err, folder, cases)
    other = [line for line in captured.err.splitlines() if not line.startswith(("error: ", "warning: "))]
    assert other == [f"{len(bad)} of {len(cases)} files could not be classified"]
    results = [line for line in captured.out.splitlines() if not line.startswith(" ")]
    assert results == [line for c in cases if not c.error
                       for line in lines_about(captured.out, folder / c.name) if not line.startswith(" ")]
    assert len(results) == len(cases) - len(bad)


def test_catalog_skips_bad_files_and_flags_the_doubtful_ones(corpus, classifier, world, capsys):
    folder, cases = corpus
    db = world / "out" / "catalog.sqlite"
    warm(classify, ["catalog", str(one_good_file(world, folder)), "--model", str(classifier),
                    "--db", str(world / "warm" / "catalog.sqlite")], capsys)
    with as_unprivileged():
        assert classify(["catalog", str(folder), "--model", str(classifier), "--db", str(db)]) == 1  # some files were bad
    captured = capsys.readouterr()
    bad = [c for c in cases if c.error]
    assert_outcomes(captured.err, folder, cases, error_prefix="skipped: ")
    assert all(line.startswith(("skipped: ", "warning: ")) for line in messages(captured.err)), captured.err
    assert captured.out.strip() == f"{len(cases) - len(bad)} added, 0 updated, 0 remerged, 0 skipped, {len(bad)} bad"
    with sqlite3.connect(db) as conn:
        rows = {Path(r[0]).name: r[1:] for r in conn.execute(
            "SELECT path, duration, truncated IS NOT NULL, short, silent FROM recordings")}
    assert sorted(rows) == sorted(c.name for c in cases if not c.error)
    for case in cases:
        if not case.error:
            duration, truncated, short, silent = rows[case.name]
            assert duration == pytest.approx(case.seconds, abs=0.05 if case.name.endswith(".mp3") else 1e-3), case
            assert (truncated, short, silent) == tuple(int(f in case.flags) for f in ("truncated", "short", "silent"))


def test_lean_tag_gives_one_line_per_problem(corpus, tagger, capsys, monkeypatch):
    import lean.scoring

    monkeypatch.setattr(lean.scoring, "load_scorer", functools.cache(lean.scoring.load_scorer))  # load once
    folder, cases = corpus
    warm(lean_cli, ["tag", str(folder / "pcm24.wav"), "--model", str(tagger), "--top", "2"], capsys)
    for case in cases:
        with as_unprivileged():
            code = lean_cli(["tag", str(folder / case.name), "--model", str(tagger), "--top", "2"])
        captured = capsys.readouterr()
        assert code == (2 if case.error else 0), case
        assert_outcomes(captured.err, folder, [case])
        assert len(captured.err.splitlines()) == len(expected(case, folder)), captured.err
        assert (captured.out.strip() != "") == (case.error is None)


def test_vary_names_a_file_it_cannot_use(corpus, autoencoder, world, capsys, monkeypatch):
    """`asmr_generate vary` on the files no command can use (each good one would write audio and a figure)."""
    import asmr_training.model_files

    monkeypatch.setattr(asmr_training.model_files, "load_model", functools.cache(asmr_training.model_files.load_model))
    folder, cases = corpus
    warm(generate, ["vary", str(folder / "pcm24.wav"), "--model", str(autoencoder), "--n", "1", "--seconds", "1",
                    "--out", str(world / "warm")], capsys)
    for case in (c for c in cases if c.error):
        with as_unprivileged():
            code = generate(["vary", str(folder / case.name), "--model", str(autoencoder), "--n", "1",
                             "--out", str(world / "out" / "vary")])
        err = capsys.readouterr().err
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith(f"error: {folder / case.name}: {case.error}"), err
    assert not (world / "out" / "vary").exists()


def test_decoder_chatter_never_reaches_stderr(corpus, capfd):
    """mpg123 writes "No extra frame text" to file descriptor 2 when it opens tagged.mp3: not for the user."""
    from audioprep.io import duration_seconds, load_audio
    from audioprep.stream import scan_audio

    folder, _ = corpus
    tagged = folder / "tagged.mp3"
    assert len(load_audio(tagged, sr=16000)[0]) == pytest.approx(1.5 * 16000, abs=1200)
    assert scan_audio(tagged).duration == pytest.approx(1.5, abs=0.06)
    assert duration_seconds(tagged) == pytest.approx(1.5, abs=0.06)
    assert capfd.readouterr().err == ""


def test_a_version_2_catalogue_gains_the_quality_columns(tmp_path):
    """Rows catalogued before the check keep NULL flags (not checked); version 1 is still refused."""
    from asmr_classify import catalog
    from audioprep.errors import UsageError

    db = tmp_path / "v2.sqlite"
    with sqlite3.connect(db) as old:
        old.execute(catalog.SCHEMA[0])
        for column in ("short", "silent", "abstain", "abstain_label", "silent_windows"):  # as version 2 made it
            old.execute(f"ALTER TABLE recordings DROP COLUMN {column}")
        old.execute("INSERT INTO recordings VALUES (1, '/a.wav', 2.0, 'h', 'm', '[]', 16000, 100, 100, 200, x'', 0, NULL)")
        old.execute("PRAGMA user_version = 2")
    catalog.connect(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == catalog.SCHEMA_VERSION == 5
        assert conn.execute("SELECT path, short, silent FROM recordings").fetchall() == [("/a.wav", None, None)]
        conn.execute("PRAGMA user_version = 1")
    with pytest.raises(UsageError, match="a catalogue of an older format \\(version 1\\)"):
        catalog.connect(db)


def test_quality_flags_at_their_boundaries():
    from audioprep.quality import SILENCE_PEAK, check_quality
    from audioprep.stream import DecodeStatus

    def flags(seconds, peak, truncated=False):
        status = DecodeStatus("x.wav", seconds, 4.0 if truncated else seconds, truncated, seconds, peak)
        return check_quality(status, window_seconds=1.0).flags

    assert flags(0.1, 0.5) == ()  # a tenth of the window is enough
    assert flags(0.0999, 0.5) == ("short",)
    assert flags(2.0, SILENCE_PEAK) == ("silent",)
    assert flags(2.0, 2 * SILENCE_PEAK) == ()
    assert flags(0.05, 0.0, truncated=True) == ("short", "silent", "truncated")
    assert check_quality(DecodeStatus("x.wav", 0.5, 2.0, True, 0.5, 0.3), 1.0).warnings == [
        "x.wav: truncated: audio stops at 0:00.5 of 0:02.0"]
