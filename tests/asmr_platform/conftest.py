"""The app's test fixtures: the tiny runs and catalogue of `serve_fixtures` (made once per pytest run), an app
over a copy that no test changes, and an app over a copy of a test's own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from serve_fixtures import app_on_copy, built, engines


@pytest.fixture(scope="module")
def made(small_layout, tmp_path_factory):
    return built(small_layout, tmp_path_factory)


@pytest.fixture(scope="module")
def loaded(made):
    return engines(made)


@pytest.fixture(scope="module")
def client(made, loaded, tmp_path_factory):
    """A client of an app over a copy of the catalogue that no test changes."""
    app, _ = app_on_copy(made, tmp_path_factory.mktemp("app"), loaded, generate_seconds=2.0)
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def writable(made, loaded, tmp_path):
    """(client, db): an app over a copy of the catalogue of this test's own."""
    app, db = app_on_copy(made, tmp_path, loaded)
    with TestClient(app) as c:
        yield c, db
