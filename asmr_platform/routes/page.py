"""The one static page, and what it needs to know first: labels (and which are verdicts, not triggers),
recordings and the model that labelled each, the models that labelled the catalogue, the one that labels
uploads (`labeller`), hidden features and limits."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

from asmr_platform import find
from asmr_platform.names import model_name
from asmr_platform.state import AppState

STATIC = Path(__file__).resolve().parents[1] / "static"


def install(app: FastAPI, state: AppState) -> None:
    params, engines = state.params, state.engines

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/api/config")
    def config():
        with state.reading() as conn:
            missing = engines.missing()
            missing["similar"] = None if find.has_embeddings(conn) else find.NO_EMBEDDINGS
            own = (engines.labeller.abstain_label,)  # what an upload may be called
            return {"catalogue": state.db.name, "labels": find.labels(conn), "none_of_these": find.none_of_these(conn, own),
                    "models": find.models(conn), "labeller": model_name(engines.labeller_id),
                    "recordings": find.recordings(conn, state.names), "missing": missing,
                    "cgan_labels": list(engines.cgan.classes) if engines.cgan else [],
                    "limits": {"upload_max_bytes": params.upload_max_bytes, "page_size": params.page_size,
                               "max_variations": params.max_variations, "max_samples": params.max_samples}}

