"""The local endpoint server: the handler behind FastAPI/uvicorn, behaving like Inference Endpoints.

``POST /`` and ``POST /predict`` take what the toolkit takes (`toolkit_http`: JSON with ``inputs``, or a raw
image body; query-string parameters) and answer the handler's list of results; ``GET /`` answers 200 like the
toolkit's health check. Like the toolkit, one request runs through the handler at a time. Local-only: the
richer ``GET /health`` (model states), the documentation (`docs`), the seed routes, CORS (ECG_CORS_ORIGINS).
Errors: 400 for client input, 401/403 for a missing/wrong bearer token, 413 for an oversize body, 503 for a
model that is not configured (or, with Retry-After, too many fits), 408 for a body that does not arrive in
time, 500 (message only, no stack trace, ``Connection: close``) for a failure inside a model. Every error
body is ``{"error": ...}``, FastAPI's own 404/405 included. Connection-level guards (read deadlines,
abandoned requests) live in guards.py.
ECG files also come in as a raw body with the format's content type or as a multipart upload (`uploads`,
local-only: the toolkit refuses those content types).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from . import docs, toolkit_http, uploads
from .compat import build_ecgfm_router
from .contract import ParsedRequest
from .errors import Busy, InputError, ModelNotConfigured
from .guards import (BodyDeadlineMiddleware, BodyLimitMiddleware, ClientGone, client_gone, current_method_path,
                     header_deadline_protocol)
from .responses import ORJSONResponse, error_response
from .tabular.routes import build_router as build_tabular_router
from .ui import routes as ui_routes

log = logging.getLogger("ecg_core.server")
# health checks; the documentation is open too (see docs); the page loads, then asks for the token
OPEN_GET_PATHS = frozenset({"/", "/health", *ui_routes.OPEN_PATHS})


def create_app(handler) -> FastAPI:
    """`handler` is an `EndpointHandler` (anything with __call__(data), health() and .engine)."""
    engine = handler.engine
    settings = engine.settings
    app = docs.documented_app("ECG inference endpoint", bearer_token=bool(settings.endpoint_token),
                              default_response_class=ORJSONResponse)
    handler_lock = asyncio.Lock()

    async def run_handler(data: Any) -> Any:
        """The handler on a request body, or the engine on an already parsed request (`ParsedRequest`)."""
        async with handler_lock:
            if await client_gone():  # it waited in the queue and its client left: nobody reads the answer
                log.info("skipped %s %s: its client disconnected before it started", *current_method_path())
                raise ClientGone
            if isinstance(data, ParsedRequest):
                return await run_in_threadpool(engine.run, data)
            return await run_in_threadpool(handler, data)

    @app.get("/health")
    @app.head("/health", include_in_schema=False)
    async def health(request: Request) -> JSONResponse:
        """Open: only whether the endpoint is up. With the bearer token (or none configured): the details."""
        if settings.endpoint_token and not _token_matches(request.headers.get("authorization", ""),
                                                          settings.endpoint_token.encode()):
            return ORJSONResponse({"status": "ok"})
        return ORJSONResponse(handler.health())

    @app.get("/", include_in_schema=False)
    async def root() -> PlainTextResponse:
        # the toolkit's answer, and where the page is
        return PlainTextResponse("Ok", headers={"Link": '</ui>; rel="alternate"; type="text/html"'})

    @app.post("/")
    @app.post("/predict")
    async def predict(request: Request) -> Response:
        """Body: the handler payload, e.g. {"inputs": {...}, "parameters": {...}}; see test_requests.json."""
        toolkit_http.check_accept(request.headers.get("accept"))
        body = await request.body()
        content_type = request.headers.get("content-type")
        base_type = (content_type or "").split(";")[0].strip().lower()
        if uploads.is_upload(base_type):
            data = await uploads.upload_payload(request, body, base_type, settings.limits)
        else:
            data = toolkit_http.handler_payload(body, content_type, request.query_params)
        return ORJSONResponse(await run_handler(data))

    install_error_handlers(app)
    # Seed-compatible routes: thin adapters over the same handler and the same tabular registry.
    app.include_router(build_ecgfm_router(run_handler, settings.limits.max_json_depth))
    app.include_router(build_tabular_router(engine.slots["tabular"].get))
    app.include_router(ui_routes.build_router(run_handler, engine))  # /ui, its API, POST /report
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(BearerTokenMiddleware, token=settings.endpoint_token)
    app.add_middleware(BodyDeadlineMiddleware, body_timeout_s=settings.limits.body_timeout_s)
    if settings.cors_origins:  # outermost, so preflights and error answers carry the CORS headers too
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return app


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def input_error(_: Request, error: InputError):
        return error_response(400, str(error))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
        return error_response(400, f"{field}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(ModelNotConfigured)
    async def not_configured(_: Request, error: ModelNotConfigured):
        return error_response(503, str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException):
        message = error.detail if isinstance(error.detail, str) else str(error.detail)
        if error.status_code == 400:  # FastAPI's JSON parser gave up (malformed, or nested past its stack)
            message = f"body: {message}"
        return error_response(error.status_code, message, **(error.headers or {}))

    @app.exception_handler(ClientGone)
    @app.exception_handler(ClientDisconnect)  # gone (or its chunked body broken) while the body was read
    async def client_gone_error(_: Request, __: Exception):
        return Response(status_code=499)  # nginx's "client closed request": nobody is there to read it

    @app.exception_handler(Busy)
    async def busy(_: Request, error: Busy):
        return error_response(503, str(error), **{"Retry-After": f"{error.retry_after_s:.0f}"})

    @app.exception_handler(Exception)
    async def internal_error(_: Request, error: Exception):
        log.exception("request failed inside the endpoint")
        return error_response(500, f"internal error: {type(error).__name__}: {error}"[:300])


class BearerTokenMiddleware:
    """With ENDPOINT_TOKEN set, every route but the health checks and the documentation needs
    ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.token or _is_open(scope):
            return await self.app(scope, receive, send)
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, supplied = header.partition(b" ")
        if scheme.lower() != b"bearer" or not supplied.strip():
            response = error_response(401, "missing bearer token (Authorization: Bearer <token>)",
                                      **{"WWW-Authenticate": "Bearer"})
        elif not _token_matches(header.decode("latin-1"), self.token):
            response = error_response(403, "invalid bearer token")
        else:
            return await self.app(scope, receive, send)
        await response(scope, receive, send)


def _is_open(scope: Scope) -> bool:
    path = scope["path"]
    return scope["method"] in ("GET", "HEAD") and (path in OPEN_GET_PATHS or docs.is_documentation(path))


def _token_matches(authorization: str, token: bytes) -> bool:
    """Constant-time check of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, supplied = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode("latin-1", "replace"), token)


def serve(handler, host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    limits = handler.engine.settings.limits
    uvicorn.run(create_app(handler), host=host, port=port, log_level="info",
                http=header_deadline_protocol(limits.header_timeout_s))
