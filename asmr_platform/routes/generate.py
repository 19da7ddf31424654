"""Generating sounds: vary a segment, blend two, sample by label; and each result's wav and mel image by token."""

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, Response

from asmr_platform import listen
from asmr_platform.checks import Token
from asmr_platform.state import AppState
from audioprep.io import load_audio


def install(app: FastAPI, state: AppState) -> None:
    generator, bodies = state.generator, state.bodies

    @app.post("/api/generate/vary")
    def vary(body: bodies.vary):
        state.need("vary")
        return {"results": generator.vary(state.source(body.segment), body.n, body.seed)}

    @app.post("/api/generate/blend")
    def blend(body: bodies.blend):
        state.need("vary")
        return {"results": generator.blend(state.source(body.a), state.source(body.b), body.alpha)}

    @app.post("/api/generate/sample")
    def sample(body: bodies.sample):
        state.need("sample")
        known = state.engines.cgan.classes
        for label in (body.label, body.blend_with):
            if label is not None and label not in known:
                raise HTTPException(422, f"label {label!r}: the cGAN knows {', '.join(known)}")
        return {"results": generator.sample(body.label, body.n, body.blend_with, body.seed)}

    def result(token: str) -> Path:
        try:
            return state.results.path(token)
        except KeyError:
            raise HTTPException(404, "no such result") from None

    @app.get("/api/results/{token}/audio")
    def result_audio(token: Token, download: bool = False):
        path = result(token)
        return FileResponse(path, media_type="audio/wav", filename=path.name,
                            content_disposition_type="attachment" if download else "inline")

    @app.get("/api/results/{token}/mel.png")
    def result_mel(token: Token):
        path = result(token)
        audio, _ = load_audio(path, sr=generator.gp.mel.sample_rate)
        return Response(listen.mel_png(audio, path.stem, generator.gp.mel), media_type="image/png")

