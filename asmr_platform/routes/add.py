"""Adding a recording: an upload is received under the size limit and classified (by --model's classifier, else
the ASMR / speech detector: it needs no run); on request it is catalogued."""

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from asmr_platform.checks import Digest, FileName
from asmr_platform.state import AppState


def install(app: FastAPI, state: AppState) -> None:
    received = state.uploads

    @app.post("/api/uploads")
    async def upload(request: Request, name: FileName):
        name = received.check_name(name)
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
    def add(upload_id: Digest):
        try:
            return received.add(state.db, upload_id)
        except KeyError:
            raise HTTPException(404, "no such upload waiting to be added (upload it again)") from None

