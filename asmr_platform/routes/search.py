"""Finding segments: a filtered, sorted page of them (with a search text), one segment, and "more like this"."""

from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Query

from asmr_platform import find
from asmr_platform.checks import MAX_LABELS, Fraction, Int64, Seconds, Text, between
from asmr_platform.state import AppState, no_segment


def install(app: FastAPI, state: AppState) -> None:
    params = state.params

    @app.get("/api/segments")
    def segments(label: Annotated[list[Text] | None, Query(max_length=MAX_LABELS)] = None,
                 min_confidence: Fraction = 0.0, min_length: Seconds = 0.0, recording: Int64 | None = None,
                 sort: Literal["confidence", "length"] = "confidence", offset: Int64 = 0,
                 limit: between(1, params.max_page_size) = params.page_size, q: Text = ""):
        filters = find.Filters(tuple(label or ()), min_confidence, min_length, recording, sort, offset, limit, q)
        with state.reading() as conn:
            return find.find(conn, filters, state.names)

    @app.get("/api/segments/{segment_id}")
    def segment(segment_id: Int64):
        with state.reading() as conn:
            found = find.segment(conn, segment_id, state.names)
        if found is None:
            raise no_segment(segment_id)
        return found

    @app.get("/api/segments/{segment_id}/similar")
    def similar(segment_id: Int64, k: between(1, params.max_similar_k) = params.similar_k):
        with state.reading() as conn:
            try:
                return {"rows": find.similar(conn, segment_id, k, state.names)}
            except KeyError:
                raise no_segment(segment_id) from None
            except find.NoEmbedding as err:
                raise HTTPException(409, str(err)) from None

