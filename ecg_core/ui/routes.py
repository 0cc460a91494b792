"""Routes of the browser page: ``/ui`` and its assets (open, so the page can load and then ask for the
token), and behind the bearer token like every API route: the page's analysis (the handler's result plus
the decoded recording to draw), the beat-anomaly view, bundled examples, and ``POST /report`` (a PDF).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Body
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from ..contract import ParsedRequest, SignalTask, parse_request
from ..errors import InputError, ModelNotConfigured
from ..responses import ORJSONResponse
from . import beats, display, examples, ranges, report

STATIC = Path(__file__).with_name("static")
ASSETS = {path.name: path for path in STATIC.iterdir() if path.suffix in {".html", ".js", ".css", ".svg"}}
OPEN_PATHS = frozenset({"/ui", "/ui/", *(f"/ui/static/{name}" for name in ASSETS)})
_MEDIA = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def build_router(run_handler: Callable[[Any], Awaitable[Any]], engine) -> APIRouter:
    settings = engine.settings
    router = APIRouter(tags=["browser page"])

    @router.get("/ui", include_in_schema=False)
    @router.get("/ui/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(ASSETS["index.html"], media_type="text/html", headers={"Cache-Control": "no-cache"})

    @router.get("/ui/static/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise InputError("path", f"no page asset {name[:40]!r}")
        return FileResponse(ASSETS[name], media_type=_MEDIA[ASSETS[name].suffix], headers={"Cache-Control": "no-cache"})

    @router.get("/ui/api/examples")
    async def example_list() -> Response:
        return ORJSONResponse({"examples": examples.available()})

    @router.get("/ui/api/examples/{name}")
    async def example(name: str) -> Response:
        return ORJSONResponse({"name": name, "inputs": await run_in_threadpool(examples.example_inputs, name)})

    @router.post("/ui/api/analyze")
    async def analyze(body: dict[str, Any] = Body(...)) -> Response:
        """Body: one signal item as for ``POST /`` (``inputs.signal`` or ``inputs.file``). Answers the
        handler's result, its measurements against the normal ranges, and ``display``: the decoded
        recording, resampled for drawing (the page cannot decode DICOM or XML itself)."""
        request = await run_in_threadpool(_one_signal_request, _with_page_parameters(body), settings)
        result = await _analysis(run_handler, request)
        drawing = await run_in_threadpool(display.for_drawing, request.tasks[0].recording)
        table = ranges.measurement_table(result, request.tasks[0].patient)
        return ORJSONResponse({"result": result, "display": drawing, "measurement_table": table})

    @router.post("/report", tags=["report"])
    async def report_page(body: dict[str, Any] = Body(...), format: str = "pdf") -> Response:
        """Body as for ``/ui/api/analyze``; answers a one-page report (ECG, measurements, findings,
        commentary): PDF, or PNG with ``?format=png``."""
        if format not in report.REPORT_FORMATS:
            raise InputError("format", f"expected one of {', '.join(report.REPORT_FORMATS)}, got {format[:20]!r}")
        request = await run_in_threadpool(_one_signal_request, _with_page_parameters(body), settings)
        result = await _analysis(run_handler, request)
        task = request.tasks[0]
        content = await run_in_threadpool(report.build_report, result, task.recording, format, task.patient)
        return Response(content, media_type=report.REPORT_FORMATS[format],
                        headers={"Content-Disposition": f'attachment; filename="ecg-report.{format}"'})

    @router.post("/ui/api/beats")
    def beat_anomalies(body: dict[str, Any] = Body(...)) -> Response:
        """Body: ``inputs`` (one signal item) or ``wfdb_files`` ({name: base64} of a .hea, .dat and
        optional .atr); ``model_id`` (a registry beat model) or ``train_minutes`` + ``contamination`` to fit an
        isolation forest on the first minutes."""
        annotations = None
        if "wfdb_files" in body:
            recording, annotations = beats.read_wfdb_files(body["wfdb_files"], settings.limits)
        else:
            recording = _one_signal_request({"inputs": body.get("inputs")}, settings).tasks[0].recording
        model_id = body.get("model_id") or None
        view = beats.beat_view(engine.slots["tabular"].get(), recording, model_id=model_id,
                               train_minutes=_number(body, "train_minutes", 10.0, 0.1, 60.0),
                               contamination=_number(body, "contamination", 0.01, 0.001, 0.5),
                               annotations=annotations)
        return ORJSONResponse(view)

    return router


def _with_page_parameters(body: dict) -> dict:
    """The page draws the median beat, so it asks for it unless the caller said otherwise."""
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError("parameters", f"expected an object, got {type(parameters).__name__}")
    return {**body, "parameters": {"return_median_beat": True, **parameters}}


def _one_signal_request(data: dict, settings) -> ParsedRequest:
    """The request parsed once (an ECG file decoded once), as one signal item to analyse; its task carries
    the recording and the patient's age and sex (they set the table's QTc limits)."""
    inputs = data.get("inputs")
    if not isinstance(inputs, dict):
        raise InputError("inputs", "expected one recording: {\"signal\": [[...]], \"fs\": ...} or {\"file\": ...}")
    request = parse_request(data, settings)
    if not isinstance(request.tasks[0], SignalTask):
        raise InputError("inputs", "the page analyses one recording: send one signal (inputs.signal) or file")
    return replace(request, tasks=(replace(request.tasks[0], task="analyze"),))


async def _analysis(run_handler, request: ParsedRequest) -> dict:
    """The handler's analysis; without ECG-FM weights the measurements alone, saying so."""
    try:
        return (await run_handler(request))[0]
    except ModelNotConfigured as error:
        measure_only = replace(request, tasks=(replace(request.tasks[0], task="measure"),))
        result = (await run_handler(measure_only))[0]
        return {**result, "ecgfm_status": f"not used: {error}"}


def _number(body: dict, name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InputError(name, f"expected a number from {low:g} to {high:g}, got {str(value)[:20]!r}")
    return float(value)
