"""How the app answers what goes wrong: `{"detail": one line}` with a 4xx for a bad request or file, 503 for a
catalogue that cannot be read, and never a server path (files are named as the page names them)."""

from __future__ import annotations

import sqlite3

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from asmr_platform.checks import one_line
from asmr_platform.names import Names
from asmr_platform.upload import UploadError
from audioprep.errors import AudioError, UsageError

UNREADABLE = "the catalogue cannot be read now (moved, deleted or damaged while the server runs): {}"


def _answer(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def install(app: FastAPI, names: Names) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_, err: RequestValidationError):
        return _answer(422, one_line(err))

    @app.exception_handler(UploadError)
    async def refused(_, err: UploadError):
        return _answer(err.status, str(err))

    @app.exception_handler(AudioError)
    async def undecodable(_, err: AudioError):
        return _answer(422, f"{names.display(err.path)}: {names.redact(err.reason, err.path)}")

    @app.exception_handler(UsageError)  # catalog.connect: the catalogue file is gone
    async def gone(_, err: UsageError):
        return _answer(503, UNREADABLE.format("no such file"))

    @app.exception_handler(sqlite3.Error)
    async def unreadable(_, err: sqlite3.Error):
        return _answer(503, UNREADABLE.format(str(err).splitlines()[0] if str(err) else type(err).__name__))
