"""The seed ECG-FM API's routes (``/analyze``, ``/extract_features``, ``/assess_quality``), unchanged for its
clients: a flat body ``{"signal", "fs", "lead_names", "recording_duration"}`` in, ONE object out.

Each route is a thin adapter: it builds the handler payload, runs it through the same handler as ``POST /``
and reshapes the single result the way the seed API answered (``signal_quality`` is the grade string, its
details beside it under ``signal_quality_details``).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Body

from .contract import SIGNAL_KEYS
from .errors import InputError
from .payload import check_payload

_EXAMPLE = {"signal": [[0.0] * 2500] * 12, "fs": 500, "lead_names": ["I", "II", "III", "aVR", "aVL", "aVF",
                                                                     "V1", "V2", "V3", "V4", "V5", "V6"],
            "recording_duration": 5.0}


def build_ecgfm_router(run_handler: Callable[[Any], Awaitable[list[dict]]], max_json_depth: int) -> APIRouter:
    router = APIRouter(tags=["ECG-FM API (seed-compatible)"])

    async def run(body: Any, task: str, parameters: dict) -> dict:
        if not isinstance(body, dict):
            raise InputError("body", "expected a JSON object with signal, fs, lead_names")
        check_payload(body, max_json_depth)  # before any field is named in a message
        inputs = {key: body[key] for key in SIGNAL_KEYS if key in body}
        unknown = sorted(set(body) - set(SIGNAL_KEYS))
        if unknown:
            raise InputError(unknown[0], f"unknown field; accepted fields are {', '.join(SIGNAL_KEYS)}")
        (result,) = await run_handler({"inputs": {**inputs, "task": task}, "parameters": parameters})
        return result

    @router.post("/analyze")
    async def analyze(body: Any = Body(..., examples=[_EXAMPLE])) -> dict:
        result = await run(body, "analyze", {"return_features": True})
        return _with_quality_grade(result)

    @router.post("/extract_features")
    async def extract_features(body: Any = Body(..., examples=[_EXAMPLE])) -> dict:
        return await run(body, "features", {})

    @router.post("/assess_quality")
    async def assess_quality(body: Any = Body(..., examples=[_EXAMPLE])) -> dict:
        return _with_quality_grade(await run(body, "quality", {}))

    return router


def _with_quality_grade(result: dict) -> dict:
    details = result.pop("signal_quality")
    return {**result, "signal_quality": details["grade"], "signal_quality_details": details}
