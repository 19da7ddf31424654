"""Vary, blend and sample from the page, through `asmr_generate.mel.generate`'s own functions.

A selected segment is cut from its recording (at most `generate_seconds` of it, mono at the mel rate)
into a work folder and handed to `generate.vary` / `generate.blend` as a file, exactly as the command
line would get it. Every wav they write is registered under a random token: the page plays, draws and
downloads results by token, never by path, and the classifier (with --model) gives its verdict on each.
The generators' module (and TensorFlow) is imported on first use, so a server without them starts fast.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from pathlib import Path

from asmr_generate.mel.params import GenerateParams
from asmr_platform.engines import Engines
from asmr_platform.params import ServeParams
from audioprep.io import load_audio, write_audio


class Results:
    """Generated files, each under a token; the files live in a folder of the server's work directory."""

    def __init__(self, root: Path):
        self.root = root
        self._files: dict[str, Path] = {}
        self._lock = threading.Lock()

    def folder(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="gen-", dir=self.root))

    def register(self, path: Path) -> str:
        token = secrets.token_hex(8)
        with self._lock:
            self._files[token] = path
        return token

    def path(self, token: str) -> Path:
        """KeyError for a token the server did not hand out."""
        with self._lock:
            return self._files[token]


class Generator:
    def __init__(self, engines: Engines, results: Results, params: ServeParams = ServeParams(),
                 generate_params: GenerateParams = GenerateParams()):
        self.engines, self.results, self.params, self.gp = engines, results, params, generate_params

    def _cut(self, source: dict, out: Path) -> tuple[Path, float]:
        """`source` (a segment: path, start, end) as a mono wav at the mel rate; (file, seconds)."""
        seconds = min(source["end"] - source["start"], self.params.generate_seconds)
        audio, sr = load_audio(source["path"], sr=self.gp.mel.sample_rate, offset=source["start"], duration=seconds)
        return write_audio(out, audio, sr), seconds

    def _report(self, files: list[Path]) -> list[dict]:
        """Each wav as the page shows it: name, token, and the classifier's verdict."""
        out = []
        for path in (f for f in files if f.suffix == ".wav"):
            token = self.results.register(path)
            out.append({"id": token, "name": path.stem, "verdict": self.engines.verdict(path),
                        "audio": f"/api/results/{token}/audio", "mel": f"/api/results/{token}/mel.png"})
        return out

    def vary(self, source: dict, n: int, seed: int = 0) -> list[dict]:
        from asmr_generate.mel import generate

        folder = self.results.folder()
        path, seconds = self._cut(source, folder / "segment.wav")
        with self.engines.lock:
            files = generate.vary(self.engines.vae, path, n, folder / "out", seconds, seed=seed, params=self.gp)
        return self._report(files)

    def blend(self, a: dict, b: dict, alpha: float) -> list[dict]:
        from asmr_generate.mel import generate

        folder = self.results.folder()
        path_a, seconds_a = self._cut(a, folder / "a.wav")
        path_b, seconds_b = self._cut(b, folder / "b.wav")
        with self.engines.lock:
            files = generate.blend(self.engines.vae, path_a, path_b, [alpha], folder / "out",
                                   min(seconds_a, seconds_b), params=self.gp)
        return self._report(files)

    def sample(self, label: str, n: int, blend_with: str | None = None, seed: int = 0) -> list[dict]:
        from asmr_generate.mel import generate

        folder = self.results.folder()
        with self.engines.lock:
            files = generate.sample(self.engines.cgan, label, n, folder / "out", blend_with=blend_with, seed=seed,
                                    params=self.gp)
        return self._report(files)
