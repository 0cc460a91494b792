"""The local endpoint server: the handler behind FastAPI/uvicorn, behaving like Inference Endpoints.

``POST /`` and ``POST /predict`` take JSON (or a raw ``image/*`` body, which becomes
``{"inputs": {"image": <bytes>}}``) and answer the handler's list of results. Like the toolkit, one
request runs through the handler at a time. Errors: 400 for client input, 401/403 for a missing/wrong
bearer token, 413 for an oversize body, 503 for a model that is not configured, 500 (message only, no
stack trace, ``Connection: close``) for a failure inside a model. Every error body is ``{"error": ...}``,
FastAPI's own 404/405/422 included. Connection-level guards (read deadlines, abandoned requests) live in
guards.py.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .compat import build_ecgfm_router
from .errors import Busy, InputError, ModelNotConfigured
from .guards import BodyDeadlineMiddleware, ClientGone, client_gone, current_method_path, header_deadline_protocol, json_safe
from .tabular.routes import build_router as build_tabular_router

log = logging.getLogger("ecg_core.server")
OPEN_PATHS = frozenset({"/health"})


def create_app(handler) -> FastAPI:
    """`handler` is an `EndpointHandler` (anything with __call__(data), health() and .engine)."""
    engine = handler.engine
    settings = engine.settings
    app = FastAPI(title="ECG inference endpoint", version="1", docs_url="/docs",
                  openapi_url="/api/openapi.json", redoc_url=None, default_response_class=ORJSONResponse)
    handler_lock = asyncio.Lock()

    async def run_handler(data: Any) -> Any:
        async with handler_lock:
            if await client_gone():  # it waited in the queue and its client left: nobody reads the answer
                log.info("skipped %s %s: its client disconnected before it started", *current_method_path())
                raise ClientGone
            return await run_in_threadpool(handler, data)

    @app.api_route("/health", methods=["GET", "HEAD"])
    async def health(request: Request) -> JSONResponse:
        """Open: only whether the endpoint is up. With the bearer token (or none configured): the details."""
        if settings.endpoint_token and not _token_matches(request.headers.get("authorization", ""),
                                                          settings.endpoint_token.encode()):
            return ORJSONResponse({"status": "ok"})
        return ORJSONResponse(handler.health())

    @app.get("/api/openapi", include_in_schema=False)
    async def swagger():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=app.title)

    @app.post("/")
    @app.post("/predict")
    async def predict(request: Request) -> Response:
        """Body: the handler payload, e.g. {"inputs": {...}, "parameters": {...}}; see test_requests.json."""
        body = await request.body()
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if content_type.startswith("image/"):
            data: Any = {"inputs": {"image": body}}
        elif content_type in ("application/json", "text/json", ""):
            data = parse_json_body(body)
        else:
            raise InputError("Content-Type", f"unsupported {content_type!r}; send application/json or image/*")
        return ORJSONResponse(await run_handler(data))

    install_error_handlers(app)
    # Seed-compatible routes: thin adapters over the same handler and the same tabular registry.
    app.include_router(build_ecgfm_router(run_handler, settings.limits.max_json_depth))
    app.include_router(build_tabular_router(engine.slots["tabular"].get))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(BearerTokenMiddleware, token=settings.endpoint_token)
    app.add_middleware(BodyDeadlineMiddleware, body_timeout_s=settings.limits.body_timeout_s)
    return app


def parse_json_body(body: bytes) -> Any:
    if not body:
        raise InputError("body", "empty; expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InputError("body", f"invalid JSON ({error})"[:200]) from None


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError:  # text that is not valid UTF-8 (a lone surrogate stored before it was refused)
            return orjson.dumps(json_safe(content), option=orjson.OPT_SERIALIZE_NUMPY)


def error_response(status: int, message: str, **headers: str) -> ORJSONResponse:
    if status >= 500 and status != 503:
        headers.setdefault("Connection", "close")  # the server drops the connection after a 500: say so
    return ORJSONResponse({"error": message}, status_code=status, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def input_error(_: Request, error: InputError):
        return error_response(400, str(error))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
        return error_response(400, f"{field}: {first.get('msg', 'invalid request')}")

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

    @app.exception_handler(ModelNotConfigured)
    async def not_configured(_: Request, error: ModelNotConfigured):
        return error_response(503, str(error))

    @app.exception_handler(Exception)
    async def internal_error(_: Request, error: Exception):
        log.exception("request failed inside the endpoint")
        return error_response(500, f"internal error: {type(error).__name__}: {error}"[:300])


class BearerTokenMiddleware:
    """With ENDPOINT_TOKEN set, every route except /health needs ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.token or scope["path"] in OPEN_PATHS:
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


def _token_matches(authorization: str, token: bytes) -> bool:
    """Constant-time check of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, supplied = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode("latin-1", "replace"), token)


class BodyLimitMiddleware:
    """Refuse bodies over the limit with 413: at once from Content-Length, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = error_response(413, f"request body exceeds the limit of {self.max_bytes} bytes")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await too_large(scope, receive, send)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await too_large(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def serve(handler, host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    limits = handler.engine.settings.limits
    uvicorn.run(create_app(handler), host=host, port=port, log_level="info",
                http=header_deadline_protocol(limits.header_timeout_s))
