"""The seed sklearn-trainer service's routes (``/api/v1/models/...``), unchanged for its clients.

Thin adapters over `TabularService`: same registry, same validation, same locking as the handler. Response
shapes are the seed's: management routes answer ``[{"message": ...}]``, ``models`` answers
``[{"models": [{"id", "type"}, ...]}]`` and ``predict`` answers ``{"predictions": [...]}``. As in the
seed, ``predict`` needs the model loaded first (``load``). Errors are raised as `InputError` (the server
answers 400 ``{"error": ...}``) or `ModelNotConfigured` (503).
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Body, File, Query, UploadFile

from ..errors import InputError
from ..payload import check_payload
from .service import FitFields, TabularService

PREFIX = "/api/v1/models"
_FIT_EXAMPLE = {"X": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "y": ["NORM", "PROBLEM"],
                "config": {"id": "123", "ml_model_type": "logic", "hyperparameters": {"C": 1.0}}}


def build_router(get_service: Callable[[], TabularService]) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["sklearn trainer (seed-compatible)"])

    def checked(body: dict) -> dict:
        """FastAPI's JSON parser lets lone surrogates and any nesting through: the contract's checks first."""
        check_payload(body, get_service().limits.max_json_depth)
        return body

    @router.post("/fit")
    def fit(body: dict[str, Any] = Body(..., examples=[_FIT_EXAMPLE])) -> list[dict]:
        config = _object(checked(body).get("config"), "config")
        model_id = config.get("id")
        get_service().fit(model_id, body.get("X"), body.get("y"), model_type=config.get("ml_model_type"),
                          hyperparameters=config.get("hyperparameters"))
        return [{"message": f"Model '{model_id}' trained and saved"}]

    @router.post("/fit_csv")
    def fit_csv(model_id: str = Query(...), ml_model_type: str = Query("logic"),
                file: UploadFile = File(..., description="CSV with a header row; the last column is the label")
                ) -> list[dict]:
        fields = FitFields(model_id="model_id", model_type="ml_model_type", rows="file", labels="file")
        get_service().fit_csv(model_id, file.file.read(), model_type=ml_model_type, fields=fields)
        return [{"message": f"Model '{model_id}' trained and saved"}]

    @router.post("/load")
    def load(body: dict[str, Any] = Body(..., examples=[{"id": "123"}])) -> list[dict]:
        get_service().load(checked(body).get("id"), id_field="id")
        return [{"message": f"Model '{body['id']}' loaded"}]

    @router.post("/unload")
    def unload(body: dict[str, Any] = Body(..., examples=[{"id": "123"}])) -> list[dict]:
        if not get_service().unload(checked(body).get("id"), id_field="id"):
            raise InputError("id", f"model {body['id']!r} is not loaded")
        return [{"message": f"Model '{body['id']}' unloaded"}]

    @router.post("/predict")
    def predict(body: dict[str, Any] = Body(..., examples=[{"id": "123", "X": [[0.1, 0.2, 0.3]]}])) -> dict:
        service = get_service()
        if not service.is_loaded(checked(body).get("id"), id_field="id"):
            raise InputError("id", f"model {body['id']!r} is not loaded; POST {PREFIX}/load first")
        result = service.predict(body["id"], body.get("X"), rows_field="X", id_field="id")
        return {"predictions": result["predictions"]}

    @router.get("/models")
    def models() -> list[dict]:
        entries = get_service().list_models()["models"]
        return [{"models": [{"id": entry["id"], "type": entry.get("requested_type") or entry["model_type"]}
                            for entry in entries]}]

    @router.delete("/remove/{model_id}")
    def remove(model_id: str) -> list[dict]:
        get_service().remove(model_id, id_field="model_id")
        return [{"message": f"Model '{model_id}' removed"}]

    return router


def _object(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(field, 'expected an object {"id": ..., "ml_model_type": ..., "hyperparameters": {...}}')
    return value
