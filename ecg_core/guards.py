"""Connection-level guards of the local server: read deadlines, body size, abandoned requests.

The handler runs one request at a time (as on Inference Endpoints), so anything that lets one client hold
a connection or the handler makes every other client wait. Here:
- `header_deadline_protocol`: uvicorn's h11 protocol with a wall-clock deadline for a request's headers
  (uvicorn's keep-alive timer restarts on every byte, so a client trickling headers is never dropped);
- `BodyDeadlineMiddleware`: the body must arrive within one deadline (a Content-Length longer than the
  body otherwise waits forever), and the request is remembered so `client_gone()` can ask, before queued
  work starts, whether its client is still there;
- `BodyLimitMiddleware`: a body over the size limit is refused (413) from its Content-Length, or as soon as
  more than the limit has streamed in.
Both refuse through one path (`_run_refusing`): the refusal is the answer unless the app already answered.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .responses import error_response

log = logging.getLogger("ecg_core.server")
_current_request: ContextVar[Request | None] = ContextVar("ecg_current_request", default=None)


def header_deadline_protocol(header_timeout_s: float) -> type[H11Protocol]:
    """An h11 protocol class that closes a connection whose next request's headers take too long."""

    class HeaderDeadlineProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_deadline()  # the next request on this connection gets its own deadline

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

        def _arm_header_deadline(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(header_timeout_s, self._header_deadline_hit)

        def _header_deadline_hit(self) -> None:
            waiting_for_headers = self.cycle is None or self.cycle.response_complete
            if waiting_for_headers and not self.transport.is_closing():
                partial = bool(self.conn.trailing_data[0])
                if partial:
                    log.warning("closing a connection from %s: request headers not complete within %g s",
                                self.client, header_timeout_s)
                self.transport.close()

    return HeaderDeadlineProtocol


class BodyDeadlineMiddleware:
    """408 when the request body has not fully arrived within `body_timeout_s` of the request's start."""

    def __init__(self, app: ASGIApp, body_timeout_s: float):
        self.app = app
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        body_done = False

        async def deadline_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()  # after the body: only the disconnect message, no deadline
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                log.warning("request body from %s not received within %g s", scope.get("client"), self.body_timeout_s)
                raise _BodyRefused(error_response(408, f"body: not received in full within {self.body_timeout_s:g} s",
                                                  Connection="close")) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        token = _current_request.set(Request(scope, deadline_receive))
        try:
            await _run_refusing(self.app, scope, receive, send, deadline_receive)
        finally:
            _current_request.reset(token)


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

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyRefused(too_large)
            return message

        await _run_refusing(self.app, scope, receive, send, limited_receive)


class _BodyRefused(Exception):
    """Raised from a guarded ``receive``: the body is refused with ``response``."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


async def _run_refusing(app: ASGIApp, scope: Scope, receive: Receive, send: Send, guarded_receive: Receive) -> None:
    """``app`` reading its body through ``guarded_receive``; a refused body gets the refusal as the answer,
    unless the app has already started its own (then the connection just ends)."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, guarded_receive, tracking_send)
    except _BodyRefused as refused:
        if not started:
            await refused.response(scope, receive, send)


class ClientGone(Exception):
    """The client disconnected before its queued request started; the work is skipped."""


def current_method_path() -> tuple[str, str]:
    request = _current_request.get()
    return (request.method, request.url.path) if request is not None else ("?", "?")


async def client_gone() -> bool:
    """True when the client of the request being served has disconnected (False outside a request)."""
    request = _current_request.get()
    return request is not None and await request.is_disconnected()
