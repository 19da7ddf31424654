"""The app's routes, a module per job: the page and its configuration, finding segments, listening to one,
adding a recording, and generating sounds. Each module's `install(app, state)` adds its routes to the app,
over the app's shared `state.AppState`. (These modules leave out `from __future__ import annotations`: FastAPI
reads a route's annotations, which name this app's limits, as objects.)"""

from asmr_platform.routes import add, generate, listen, page, search

ROUTES = (page, search, listen, add, generate)
