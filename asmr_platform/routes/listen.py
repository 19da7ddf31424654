"""Listening to a catalogued segment: its wav (byte ranges too), its mel image, and the confidence around it."""

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from asmr_platform import listen
from asmr_platform.checks import Int64
from asmr_platform.state import AppState, no_segment


def install(app: FastAPI, state: AppState) -> None:
    params = state.params

    @app.get("/api/segments/{segment_id}/audio")
    def audio(segment_id: Int64, request: Request):
        seg = state.source(segment_id)
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
    def mel(segment_id: Int64):
        seg = state.source(segment_id)
        png = listen.segment_mel_png(seg["path"], seg["start"], seg["end"], params.image_seconds)
        return Response(png, media_type="image/png")

    @app.get("/api/segments/{segment_id}/confidence")
    def confidence(segment_id: Int64):
        with state.reading() as conn:
            around = listen.confidence_around(conn, segment_id, params.context_seconds, params.max_points)
        if around is None:
            raise no_segment(segment_id)
        return around

