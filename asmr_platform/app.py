"""The app's HTTP interface: one static page and a JSON API over the catalogue and the loaded runs.

The client names segments, recordings, uploads and results by the ids the server gave it, never by a
path: the only audio the server reads is a file recorded in the catalogue, an upload it received, or
a result it generated. Each request opens its own connection to the catalogue (SQLite in WAL mode),
so pages keep loading while `catalog` writes into the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from asmr_classify import catalog
from asmr_platform import find, listen
from asmr_platform.engines import Engines
from asmr_platform.generate import Generator, Results
from asmr_platform.params import ServeParams
from asmr_platform.upload import UploadError, Uploads
from audioprep.errors import AudioError
from audioprep.io import load_audio

STATIC = Path(__file__).parent / "static"
TOKEN = r"^[0-9a-f]{16}$"
DIGEST = r"^[0-9a-f]{64}$"


class VaryIn(BaseModel):
    segment: int
    n: int = 3
    seed: int = 0


class BlendIn(BaseModel):
    a: int
    b: int
    alpha: float = 0.5


class SampleIn(BaseModel):
    label: str
    blend_with: str | None = None
    n: int = 3
    seed: int = 0


def _in_range(name: str, value, low, high) -> None:
    if not low <= value <= high:
        raise HTTPException(422, f"{name} {value}: must be in [{low}, {high}]")


def create_app(db: Path, engines: Engines, work: Path, uploads: Path, params: ServeParams = ServeParams()) -> FastAPI:
    """The app over catalogue `db`; `work` holds uploads being classified and generated results,
    `uploads` the uploaded files added to the catalogue."""
    app = FastAPI(title="ASMR trigger catalogue", docs_url=None, redoc_url=None, openapi_url=None)
    results = Results(work)
    generator = Generator(engines, results, params)
    received = Uploads(work, uploads, engines, params)

    @contextmanager
    def reading() -> Iterator[sqlite3.Connection]:
        conn = catalog.connect(db, create=False)
        try:
            yield conn
        finally:
            conn.close()

    def source(segment_id: int) -> dict:
        with reading() as conn:
            row = conn.execute("SELECT r.path, s.start, s.end FROM segments s JOIN recordings r "
                               "ON r.id = s.recording_id WHERE s.id = ?", (segment_id,)).fetchone()
        if row is None:
            raise HTTPException(404, f"segment {segment_id}: not in the catalogue")
        return dict(zip(("path", "start", "end"), row, strict=True))

    def need(feature: str) -> None:
        reason = engines.missing()[feature]
        if reason is not None:
            raise HTTPException(409, reason)

    @app.exception_handler(UploadError)
    async def refused(_, err: UploadError):
        return JSONResponse({"detail": str(err)}, status_code=err.status)

    @app.exception_handler(AudioError)
    async def undecodable(_, err: AudioError):
        return JSONResponse({"detail": str(err)}, status_code=422)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/api/config")
    def config():
        with reading() as conn:
            missing = engines.missing()
            missing["similar"] = None if find.has_embeddings(conn) else find.NO_EMBEDDINGS
            return {"catalogue": db.name, "labels": find.labels(conn), "recordings": find.recordings(conn),
                    "missing": missing, "cgan_labels": list(engines.cgan.classes) if engines.cgan else [],
                    "limits": {"upload_max_bytes": params.upload_max_bytes, "page_size": params.page_size,
                               "max_variations": params.max_variations, "max_samples": params.max_samples}}

    @app.get("/api/segments")
    def segments(label: list[str] = Query(default=[]), min_confidence: float = Query(0.0, ge=0.0, le=1.0),
                 min_length: float = Query(0.0, ge=0.0), recording: int | None = None,
                 sort: Literal["confidence", "length"] = "confidence", offset: int = Query(0, ge=0),
                 limit: int = Query(params.page_size, ge=1, le=params.max_page_size)):
        filters = find.Filters(tuple(label), min_confidence, min_length, recording, sort, offset, limit)
        with reading() as conn:
            return find.find(conn, filters)

    @app.get("/api/segments/{segment_id}")
    def segment(segment_id: int):
        with reading() as conn:
            found = find.segment(conn, segment_id)
        if found is None:
            raise HTTPException(404, f"segment {segment_id}: not in the catalogue")
        return found

    @app.get("/api/segments/{segment_id}/audio")
    def segment_audio(segment_id: int, request: Request):
        seg = source(segment_id)
        clip = listen.clip(seg["path"], seg["start"], seg["end"])
        headers = {"Accept-Ranges": "bytes", "Content-Disposition": f'inline; filename="segment-{segment_id}.wav"'}
        try:
            wanted = listen.byte_range(request.headers.get("range"), clip.size)
        except ValueError:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{clip.size}"})
        if wanted is None:
            return StreamingResponse(listen.wav_bytes(clip), media_type="audio/wav",
                                     headers={**headers, "Content-Length": str(clip.size)})
        first, last = wanted
        return StreamingResponse(listen.wav_bytes(clip, first, last), status_code=206, media_type="audio/wav",
                                 headers={**headers, "Content-Length": str(last - first + 1),
                                          "Content-Range": f"bytes {first}-{last}/{clip.size}"})

    @app.get("/api/segments/{segment_id}/mel.png")
    def segment_mel(segment_id: int):
        seg = source(segment_id)
        png = listen.segment_mel_png(seg["path"], seg["start"], seg["end"], params.image_seconds)
        return Response(png, media_type="image/png")

    @app.get("/api/segments/{segment_id}/confidence")
    def segment_confidence(segment_id: int):
        with reading() as conn:
            around = listen.confidence_around(conn, segment_id, params.context_seconds, params.max_points)
        if around is None:
            raise HTTPException(404, f"segment {segment_id}: not in the catalogue")
        return around

    @app.get("/api/segments/{segment_id}/similar")
    def segment_similar(segment_id: int, k: int = Query(params.similar_k, ge=1, le=params.max_similar_k)):
        with reading() as conn:
            try:
                return {"rows": find.similar(conn, segment_id, k)}
            except KeyError:
                raise HTTPException(404, f"segment {segment_id}: not in the catalogue") from None
            except find.NoEmbedding as err:
                raise HTTPException(409, str(err)) from None

    @app.post("/api/uploads")
    async def upload(request: Request, name: str = Query(min_length=1, max_length=255)):
        need("add")
        received.check_name(name)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit():
            received.check_size(name, int(declared))
        spooled = received.spool()
        try:
            size = 0
            with spooled.open("wb") as fh:
                async for chunk in request.stream():
                    size += len(chunk)
                    received.check_size(name, size)  # a body longer than it declared stops here too
                    fh.write(chunk)
            return await run_in_threadpool(received.classify, name, spooled)
        finally:
            spooled.unlink(missing_ok=True)

    @app.post("/api/uploads/{upload_id}/catalogue")
    def add_upload(upload_id: str = PathParam(pattern=DIGEST)):
        need("add")
        try:
            return received.add(db, upload_id)
        except KeyError:
            raise HTTPException(404, "no such upload waiting to be added (upload it again)") from None

    @app.post("/api/generate/vary")
    def vary(body: VaryIn):
        need("vary")
        _in_range("n", body.n, 1, params.max_variations)
        return {"results": generator.vary(source(body.segment), body.n, body.seed)}

    @app.post("/api/generate/blend")
    def blend(body: BlendIn):
        need("vary")
        _in_range("alpha", body.alpha, 0.0, 1.0)
        return {"results": generator.blend(source(body.a), source(body.b), body.alpha)}

    @app.post("/api/generate/sample")
    def sample(body: SampleIn):
        need("sample")
        _in_range("n", body.n, 1, params.max_samples)
        for label in (body.label, body.blend_with):
            if label is not None and label not in engines.cgan.classes:
                raise HTTPException(422, f"label {label!r}: the cGAN knows {', '.join(engines.cgan.classes)}")
        return {"results": generator.sample(body.label, body.n, body.blend_with, body.seed)}

    def result_path(token: str) -> Path:
        try:
            return results.path(token)
        except KeyError:
            raise HTTPException(404, "no such result") from None

    @app.get("/api/results/{token}/audio")
    def result_audio(token: str = PathParam(pattern=TOKEN), download: bool = False):
        path = result_path(token)
        return FileResponse(path, media_type="audio/wav", filename=path.name,
                            content_disposition_type="attachment" if download else "inline")

    @app.get("/api/results/{token}/mel.png")
    def result_mel(token: str = PathParam(pattern=TOKEN)):
        path = result_path(token)
        audio, _ = load_audio(path, sr=generator.gp.mel.sample_rate)
        return Response(listen.mel_png(audio, path.stem, generator.gp.mel), media_type="image/png")

    return app
