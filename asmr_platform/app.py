"""The app's HTTP interface: one static page and a JSON API over the catalogue and the loaded runs.

The client names segments, recordings, uploads and results by the ids the server gave it, never by a
path: the only audio the server reads is a file recorded in the catalogue, an upload it received, or
a result it generated. Every request is checked against `checks` before a route runs, and every error
is answered by `errors`; the routes themselves are in `routes`, a router per job.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from asmr_platform import errors
from asmr_platform.engines import Engines
from asmr_platform.params import ServeParams
from asmr_platform.routes import ROUTES
from asmr_platform.routes.page import STATIC
from asmr_platform.state import AppState


def create_app(db: Path, engines: Engines, work: Path, uploads: Path, params: ServeParams = ServeParams()) -> FastAPI:
    """The app over catalogue `db`; `work` holds uploads being classified and generated results,
    `uploads` the uploaded files added to the catalogue."""
    app = FastAPI(title="ASMR trigger catalogue", docs_url=None, redoc_url=None, openapi_url=None)
    state = AppState.make(db, engines, work, uploads, params)
    errors.install(app, state.names)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for routes in ROUTES:
        routes.install(app, state)
    return app
