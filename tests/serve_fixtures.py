"""What the app's tests share: tiny runs trained on the small generated corpus, a catalogue of it (plus a
stereo 44.1 kHz recording and one with a silent gap), the runs loaded once, and a live uvicorn server on a
free loopback port.

The classifier's abstain threshold is set in its params.json (`ABSTAIN_THRESHOLD`), as `train` records a
calibrated one: a one-epoch model over nine classes is sure of little, so under the default it would call
every window `other`; at this threshold the catalogue holds both trigger labels and `other`, and the gap's
windows are `silent`.

The runs are made once per pytest run, whatever the number of xdist workers (`shared_build`): training
three models is most of the tests' time. Each worker loads them once (`_ENGINES`).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from shared_build import shared_build
from streaming_fixtures import recording

from asmr_audioset.abstain import KEY as ABSTAIN_KEY
from asmr_training.run_dir import PARAMS
from audioprep.io import write_audio

_ENGINES: dict = {}
# between the one-epoch model's least sure windows (1/9 is the floor for nine classes) and its surest (~0.3)
ABSTAIN_THRESHOLD = 0.2


@dataclass
class Built:
    corpus: Path
    stereo: Path  # a 12 s stereo 44.1 kHz recording, catalogued beside the corpus
    gap: Path  # 3 s of sound, 3 s of digital silence, 3 s of sound, beside it
    classifier: Path
    vae: Path
    cgan: Path
    db: Path  # pristine: copy it before changing it


def built(small_layout, tmp_path_factory) -> Built:
    """The runs, recordings and catalogue, made by the first worker that asks and read by the others."""
    corpus = small_layout("deepasmr")
    made = shared_build(tmp_path_factory, "serve", lambda root: _build(corpus, root))
    return Built(**{name: Path(path) for name, path in made.items()})


def _build(corpus: Path, root: Path) -> dict:
    from asmr_classify import catalog
    from asmr_classify.train import train_classifier
    from asmr_generate.mel.params import CGANParams, VAEParams
    from asmr_generate.mel.train import load_slice_sets, train
    from asmr_training.run_spec import RunSpec

    classifier = train_classifier("deepasmr", RunSpec(root / "classifier", corpus, epochs=1, max_per_file=2),
                                  verbose=0, filters=8, dense_units=16, batch_size=16).path
    params = classifier / PARAMS
    params.write_text(json.dumps({**json.loads(params.read_text()), ABSTAIN_KEY: ABSTAIN_THRESHOLD}))
    sets = load_slice_sets(corpus, max_slices_per_file=2)
    train("vae", RunSpec(root / "vae"), VAEParams(filters=8, latent_dim=8, epochs=1, grid_every=100), sets, verbose=0)
    train("cgan", RunSpec(root / "cgan"), CGANParams(filters=8, noise_dim=8, embedding_dim=4, epochs=1, grid_every=100),
          sets, verbose=0)
    extra = root / "extra"
    stereo = write_audio(extra / "stereo_44k.wav", recording(12.0, seed=3), 44100)
    sound = recording(3.0, sr=22050, seed=4)[0]
    gap = write_audio(extra / "gap.wav", np.concatenate([sound, np.zeros_like(sound), sound[::-1]]), 22050)
    db = root / "catalog.sqlite"
    for folder in (corpus, extra):
        counts = catalog.build_catalog(folder, classifier, db, progress=False)
        assert counts["bad"] == 0 and counts["added"] > 0, counts
    made = Built(corpus, stereo, gap, classifier, root / "vae", root / "cgan", db)
    return {name: str(path) for name, path in asdict(made).items()}


def engines(b: Built):
    """The three runs loaded once per worker (Engines is shared; its lock serialises model calls)."""
    if "engines" not in _ENGINES:
        from asmr_platform.engines import load_engines

        _ENGINES["engines"] = load_engines(b.classifier, b.vae, b.cgan)
    return _ENGINES["engines"]


def app_on_copy(b: Built, folder: Path, engines_, **params):
    """An app over a fresh copy of the catalogue in `folder`; returns (app, db copy)."""
    from asmr_platform.app import create_app
    from asmr_platform.params import ServeParams

    db = folder / "catalog.sqlite"
    shutil.copy(b.db, db)
    work = folder / "work"
    work.mkdir()
    return create_app(db, engines_, work, folder / "uploads", ServeParams(**params)), db


class LiveServer:
    """uvicorn serving `app` in a thread on a loopback socket bound before it starts (no port race)."""

    def __init__(self, app):
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
