"""Every bad request is a 4xx with one line, never a 500 and never a server path: a fuzz over every route of
the app (read from `app.routes`, so a new route is covered without a change here) on a live server; errors
about files name them as the page does; and the command binds its port before it says "serving"."""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import socket
import subprocess
import sys
import types
import typing
from urllib.parse import quote, urlencode

from fastapi.routing import APIRoute
from serve_fixtures import LiveServer, app_on_copy

from asmr_classify import catalog
from asmr_platform.checks import SQLITE_INT_MAX

# what a client may send where a value belongs: out of range, negative, fractional, non-finite, mistyped
VALUES = [2**63, 2**70, -(2**63) - 1, -1, 1.5, math.nan, math.inf, "seven", "", True, None, [], {}, "x" * 5000,
          "../../etc/passwd", "é\u0000"]
# whole bodies that are no JSON object of the route's fields
BODIES = [b"", b"not json", b"[]", b"null", b'"text"', b'{"a": }', b"[" * 100_000, b"{" * 100_000, b"\xff\xfe"]


def kind(annotation) -> tuple[str, tuple]:
    """A field's base type (int, float, str, bool or literal) through Annotated, Optional and list; with a
    Literal's choices."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated or origin is list:
        return kind(args[0])
    if origin in (typing.Union, types.UnionType):
        return kind(next(a for a in args if a is not type(None)))
    if origin is typing.Literal:
        return "literal", args
    return annotation.__name__, ()


def must_refuse(base: str, choices: tuple, value, in_json: bool) -> bool:
    """Whether `value` is invalid for a field of this base type whatever the route (a 4xx, not just no 500).
    Every number the app takes is non-negative; a query or path carries text, which may be valid text."""
    if value is None:
        return False  # a field left to its default, or an optional one
    text = value if isinstance(value, str) else json.dumps(value)
    if base == "int":
        number = value if in_json else (int(text) if re.fullmatch(r"-?\d+", text) else None)
        return not (type(number) is int and 0 <= number <= SQLITE_INT_MAX)
    if base == "float":
        number = value if in_json else _float(text)
        return isinstance(number, bool) or not isinstance(number, int | float) or not 0 <= number < math.inf
    if base == "str":
        return in_json and not isinstance(value, str)
    if base == "literal":
        return value not in choices
    return base == "bool" and text not in ("true", "false", "1", "0")


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def base_value(field_info):
    """A valid value for a field: segment 1 exists, a pattern's first fitting candidate, a Literal's first choice."""
    base, choices = kind(field_info.annotation)
    pattern = next((m.pattern for m in field_info.metadata if getattr(m, "pattern", None)), None)
    if pattern:
        return next(c for c in ("0" * 16, "0" * 64) if re.fullmatch(pattern, c))
    return {"int": 1, "float": 0.5, "str": "a", "bool": False, "literal": choices[0] if choices else None}[base]


def as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Fuzz:
    """Requests to a live server; every answer is checked for a status under 500 and no server path."""

    def __init__(self, url: str, secrets: tuple[str, ...]):
        self.host, self.port = url.removeprefix("http://").split(":")
        self.secrets = secrets
        self.sent = 0

    def send(self, method: str, path: str, query: list | None = None, body: bytes | None = None) -> int:
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        target = path + (f"?{urlencode(query)}" if query else "")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
        self.sent += 1
        assert response.status < 500, (method, target, body and body[:80], response.status, text[:300])
        assert not any(secret in text for secret in self.secrets), (method, target, text[:300])
        if response.status >= 400 and "json" in response.getheader("content-type", ""):
            detail = json.loads(text)["detail"]
            assert isinstance(detail, str) and "\n" not in detail and len(detail) < 1000, (target, detail)
        return response.status


def fuzz_route(fuzz: Fuzz, route: APIRoute) -> None:
    method = sorted(route.methods)[0]
    dep = route.dependant
    path_fields = {f.alias: f.field_info for f in dep.path_params}
    query_fields = {f.alias: f.field_info for f in dep.query_params}
    body_model = dep.body_params[0].field_info.annotation if dep.body_params else None
    body_fields = body_model.model_fields if body_model else {}

    def request(path_over=None, query_over=None, body=None):
        values = {name: base_value(info) for name, info in path_fields.items()} | (path_over or {})
        path = route.path.format(**{name: quote(as_text(v), safe="") for name, v in values.items()})
        base_query = {name: base_value(info) for name, info in query_fields.items() if info.is_required()}
        query = [(k, as_text(v)) for k, v in (base_query | (query_over or {})).items() if v is not None]
        if body is None and body_model is not None:
            body = json.dumps({name: base_value(info) for name, info in body_fields.items()
                               if info.is_required()}).encode()
        return fuzz.send(method, path, query, body)

    for where, fields in (("path", path_fields), ("query", query_fields)):
        for name, info in fields.items():
            base, choices = kind(info.annotation)
            for value in VALUES if where == "query" else [v for v in VALUES if v != ""]:  # "": another route
                status = request(**{f"{where}_over": {name: value}})
                if must_refuse(base, choices, value, in_json=False):
                    assert 400 <= status < 500, (route.path, name, value, status)
    for name, info in body_fields.items():
        base, choices = kind(info.annotation)
        valid = {n: base_value(i) for n, i in body_fields.items() if i.is_required()}
        for value in VALUES:
            status = request(body=json.dumps({**valid, name: value}).encode())
            if must_refuse(base, choices, value, in_json=True) or (value is None and info.is_required()):
                assert 400 <= status < 500, (route.path, name, value, status)
        if info.is_required():
            assert 400 <= request(body=json.dumps({n: v for n, v in valid.items() if n != name}).encode()) < 500
    if body_model is not None:
        valid = {n: base_value(i) for n, i in body_fields.items() if i.is_required()}
        for body in (*BODIES, json.dumps({**valid, "no_such_field": 1}).encode()):
            assert 400 <= request(body=body) < 500, (route.path, body[:40])
    if method == "GET":  # every value valid (or its default): found, or no such result; a valid POST would generate
        assert request() in (200, 404), route.path


def test_every_route_answers_bad_values_with_a_4xx_and_the_server_lives(made, loaded, tmp_path, tmp_path_factory):
    app, _ = app_on_copy(made, tmp_path, loaded)
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 15  # the page, config, find, one segment, its audio, mel, confidence, similar, ...
    secrets = (str(tmp_path_factory.getbasetemp()), "Traceback")
    with LiveServer(app) as server:
        fuzz = Fuzz(server.url, secrets)
        for route in routes:
            fuzz_route(fuzz, route)
        assert fuzz.sent >= 400
        assert fuzz.send("GET", "/api/config") == 200  # alive, and still answering properly
        assert fuzz.send("GET", "/api/segments/1") == 200


def test_the_reported_requests_are_a_422_with_one_line(client):
    for response, says in (
        (client.get("/api/segments/1180591620717411303424"), "segment_id: Input should be less than or equal to"),
        (client.get("/api/segments", params={"offset": 2**70}), "offset: Input should be less than or equal to"),
        (client.post("/api/generate/vary", json={"segment": 2**70}), "segment: Input should be less than or equal"),
        (client.post("/api/generate/vary", json={"segment": 1, "seed": -1}), "seed: Input should be greater than"),
        (client.post("/api/generate/vary", json={"segment": 1, "seed": 2**32}), "seed: Input should be less than"),
        (client.post("/api/generate/blend", json={"a": 1, "b": "2"}), "b: Input should be a valid integer"),
        (client.post("/api/generate/blend", content=b'{"a": 1, "b": 2, "alpha": NaN}',
                     headers={"Content-Type": "application/json"}), "alpha: Input should be a finite number"),
        (client.post("/api/generate/sample", json={"label": "x", "n": 1.5}), "n: Input should be a valid integer"),
        (client.post("/api/generate/sample", content=b"{", headers={"Content-Type": "application/json"}),
         "body: not valid JSON"),
        (client.get("/api/segments", params={"label": ["a"] * 101}), "label: List should have at most 100 items"),
    ):
        assert response.status_code == 422 and response.json()["detail"].startswith(says), response.text


def test_an_unreadable_recording_or_catalogue_is_named_without_its_path(writable, tmp_path):
    c, db = writable
    segment = c.get("/api/segments").json()["rows"][0]
    writer = catalog.connect(db)
    with catalog.write(writer):
        writer.execute("UPDATE recordings SET path = ? WHERE id = ?", (str(tmp_path / "moved" / "take.wav"),
                                                                      segment["recording_id"]))
    writer.close()
    for url in (f"/api/segments/{segment['id']}/audio", f"/api/segments/{segment['id']}/mel.png"):
        response = c.get(url)
        assert response.status_code == 422 and response.json()["detail"] == "moved/take.wav: no such file"
    db.unlink()
    response = c.get("/api/segments")
    assert response.status_code == 503 and str(tmp_path) not in response.text
    assert response.json()["detail"].startswith("the catalogue cannot be read now")


def test_a_taken_port_is_one_line_before_any_serving_line(made, tmp_path):
    db = tmp_path / "catalog.sqlite"
    db.write_bytes(made.db.read_bytes())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "asmr_platform", "--db", str(db), "--port", str(port)],
                              capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 2 and "serving" not in done.stdout
    assert done.stderr.splitlines() == [f"error: --port {port}: cannot listen on 127.0.0.1:{port} (Address already in use)"]
