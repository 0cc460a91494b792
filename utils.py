"""Helpers shared by the handler: the timing helper and the DeepSeek chat client behind the Turkish commentary."""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import requests
import requests.adapters
import requests.auth
import urllib3
from urllib3.util import Retry

logger = logging.getLogger(__name__)


class Timer:
    """Elapsed wall-clock seconds, read while running or after the block ends."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._end: float | None = None

    @property
    def seconds(self) -> float:
        end = self._end if self._end is not None else time.perf_counter()
        return end - self._start

    def stop(self) -> float:
        self._end = time.perf_counter()
        return self.seconds


@contextmanager
def timed() -> Iterator[Timer]:
    """``with timed() as t: ...`` then ``t.seconds``."""
    timer = Timer()
    try:
        yield timer
    finally:
        timer.stop()


# --- DeepSeek chat client (Turkish commentary) -------------------------------------------------------------
# Docs: https://api-docs.deepseek.com (error codes, rate limit: slow non-streaming requests are kept alive
# with blank lines, so a socket read timeout alone never fires; every wait here is bounded by one deadline).

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
HTTP_STATUS_MEANINGS = {
    400: "invalid request",
    401: "authentication failed, check DEEPSEEK_API_KEY",
    402: "insufficient balance on the DeepSeek account",
    404: "not found, check DEEPSEEK_BASE_URL",
    422: "invalid parameters",
    429: "rate limited",
    500: "DeepSeek server error",
    502: "bad gateway",
    503: "DeepSeek server overloaded",
    504: "gateway timeout",
}
CONNECT_TIMEOUT_S = 5.0
MIN_ATTEMPT_S = 0.25  # no new attempt is started with less time than this before the deadline
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 4.0
MAX_RESPONSE_BYTES = 1 << 20
MAX_REPLY_TOKENS = 1024
MAX_SERVER_MESSAGE_CHARS = 200
_SECRET_PATTERNS = (re.compile(r"sk-[A-Za-z0-9_\-]{6,}"), re.compile(r"(?i)bearer\s+\S+"))


@dataclass(frozen=True)
class ChatReply:
    text: str
    model: str  # the model that answered, as DeepSeek reports it
    total_tokens: int  # usage.total_tokens; 0 when DeepSeek did not report usage


class DeepSeekError(Exception):
    """No reply. `status` is "unavailable" (DeepSeek could not be reached) or "failed" (anything else).

    The message is short and never contains the API key.
    """

    def __init__(self, status: str, message: str):
        self.status = status
        super().__init__(message)


class _Transient(Exception):
    """An attempt that may succeed if repeated (429/5xx, connection failures, a body cut off)."""

    def __init__(self, error: DeepSeekError, retry_after_s: float | None = None):
        self.error = error
        self.retry_after_s = retry_after_s


class _BearerAuth(requests.auth.AuthBase):
    """Explicit auth, so requests never swaps in credentials from ~/.netrc; the key stays out of reprs."""

    def __init__(self, api_key: str):
        self._api_key = api_key

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        return request


class DeepSeekClient:
    """OpenAI-compatible ``POST {base_url}/chat/completions`` on one pooled `requests.Session`.

    `chat` retries 429, 5xx and connection failures with jittered exponential backoff (honouring
    Retry-After), never 400/401/402/422, and gives up at the caller's deadline whatever the server does.
    Safe to call from several threads at once (at most `max_connections` sockets are kept open).
    """

    def __init__(self, api_key: str, base_url: str, model: str, *, max_connections: int = 4):
        if not api_key:
            raise ValueError("DeepSeekClient needs an API key")
        self.model = model
        self.url = f"{base_url.rstrip('/')}/chat/completions"
        self._api_key = api_key
        self._auth = _BearerAuth(api_key)
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max_connections, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    def chat(self, system_prompt: str, user_text: str, deadline: float) -> ChatReply:
        """The assistant's reply to one user message. `deadline` is a `time.monotonic()` value in seconds.

        Raises `DeepSeekError` when no reply arrives in time; never anything else for network or server faults.
        """
        payload = {
            "model": self.model,
            "messages": [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_text}],
            "thinking": {"type": "disabled"},  # V4 models think by default: slow and costly for a short text
            "max_tokens": MAX_REPLY_TOKENS,
            "stream": False,
        }
        attempts = 0
        error = DeepSeekError("failed", "no time left before the deadline to ask DeepSeek")
        while deadline - time.monotonic() > MIN_ATTEMPT_S:
            attempts += 1
            try:
                return self._attempt(payload, deadline)
            except DeepSeekError as final:
                raise self._redacted(final, attempts) from None
            except _Transient as transient:
                error, wait_s = transient.error, _backoff_s(attempts)
                if transient.retry_after_s is not None:
                    wait_s = transient.retry_after_s
                    if time.monotonic() + wait_s + MIN_ATTEMPT_S > deadline:
                        error = DeepSeekError(error.status, f"{error}; DeepSeek asked to retry after "
                                                            f"{wait_s:g} s, beyond the deadline")
                        break
            time_left = deadline - time.monotonic() - MIN_ATTEMPT_S
            if time_left <= 0:
                break
            wait_s = min(wait_s, time_left)
            logger.info("DeepSeek attempt %d: %s; retrying in %.2f s", attempts, self._redact(str(error)), wait_s)
            time.sleep(wait_s)
        raise self._redacted(error, attempts)

    def _attempt(self, payload: dict, deadline: float) -> ChatReply:
        remaining = deadline - time.monotonic()
        try:
            response = self._session.post(self.url, json=payload, auth=self._auth, stream=True,
                                          allow_redirects=False,
                                          timeout=(min(CONNECT_TIMEOUT_S, remaining), remaining))
        except requests.exceptions.ConnectionError as error:  # refused, reset, DNS, connect timeout
            raise _Transient(DeepSeekError("unavailable", f"cannot connect to DeepSeek ({_cause(error)})")) from None
        except requests.exceptions.Timeout:
            raise DeepSeekError("failed", "DeepSeek did not answer before the deadline") from None
        except (requests.RequestException, ValueError) as error:  # e.g. a malformed URL or header value
            raise DeepSeekError("failed", f"the request to DeepSeek could not be sent ({type(error).__name__})") \
                from None
        with response:
            body = _read_body(response, deadline)
            if response.status_code == 200:
                return self._parse_reply(body)
            error = DeepSeekError("failed", self._describe_http_error(response.status_code, body))
            if response.status_code in RETRYABLE_STATUSES:
                raise _Transient(error, _retry_after_s(response.headers.get("Retry-After")))
            raise error

    def _parse_reply(self, body: bytes) -> ChatReply:
        try:
            payload = json.loads(body)  # leading keep-alive blank lines are JSON whitespace
        except ValueError:
            raise DeepSeekError("failed", "DeepSeek returned malformed JSON"
                                + (" (empty body)" if not body.strip() else "")) from None
        if not isinstance(payload, dict):
            raise DeepSeekError("failed", "DeepSeek returned malformed JSON (not an object)")
        if payload.get("error"):
            raise DeepSeekError("failed", f"DeepSeek error: {_server_message(payload)}")
        choices = payload.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else None
        if not isinstance(first, dict):
            raise DeepSeekError("failed", "DeepSeek returned no choices")
        message = first.get("message")
        text = message.get("content") if isinstance(message, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise DeepSeekError("failed", "DeepSeek returned an empty reply")
        usage = payload.get("usage")
        tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
        model = payload.get("model")
        # A key the upstream (or a proxy) echoes back must not reach the result or the cache.
        return ChatReply(text=self._redact(text.strip()), model=model if isinstance(model, str) and model else self.model,
                         total_tokens=tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else 0)

    def _describe_http_error(self, status_code: int, body: bytes) -> str:
        try:
            server_message = _server_message(json.loads(body))
        except ValueError:
            server_message = ""
        if status_code in (400, 404) and "model" in server_message.lower() and (
                "not exist" in server_message.lower() or "not found" in server_message.lower()):
            return (f"DeepSeek has no model {self.model!r} (HTTP {status_code}: {server_message}); "
                    "set DEEPSEEK_MODEL to a current model name")
        meaning = HTTP_STATUS_MEANINGS.get(status_code, "unexpected status")
        return f"HTTP {status_code} {meaning}" + (f": {server_message}" if server_message else "")

    def _redact(self, text: str) -> str:
        text = text.replace(self._api_key, "***")
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub("***", text)
        return text

    def _redacted(self, error: DeepSeekError, attempts: int) -> DeepSeekError:
        suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
        return DeepSeekError(error.status, self._redact(str(error)) + suffix)


def _read_body(response: requests.Response, deadline: float) -> bytes:
    """The whole body, or `DeepSeekError` at `deadline`.

    DeepSeek's keep-alive blank lines restart any socket read timeout, and a server that falls silent would
    hold a read for the whole timeout set at the start; so a watchdog shuts the socket for reading at the
    deadline (`urllib3.HTTPResponse.shutdown`, which wakes a blocked read).
    """
    chunks: list[bytes] = []
    size = 0
    with Watchdog(deadline) as watchdog:
        watchdog.watch(response.raw.shutdown)
        try:
            while chunk := response.raw.read1(64 * 1024, decode_content=True):  # gzip etc., as requests would
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise DeepSeekError("failed", f"DeepSeek's answer exceeds {MAX_RESPONSE_BYTES} bytes")
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            watchdog.expired.set()
        except urllib3.exceptions.HTTPError as error:  # IncompleteRead, connection reset mid-body
            if not watchdog.expired.is_set():
                raise _Transient(DeepSeekError("failed", f"DeepSeek's answer was cut off ({_cause(error)})")) \
                    from None
    if watchdog.expired.is_set():
        raise DeepSeekError("failed", "DeepSeek did not finish its answer before the deadline")
    return b"".join(chunks)


class Watchdog:
    """A wall-clock deadline for blocking socket I/O: at `deadline` (a `time.monotonic()` value) every
    stop function registered with `watch` is called once (typically a socket shutdown, which wakes a
    blocked read); `expired` tells the reader why its read ended. One mechanism for every outbound call:
    socket timeouts restart on each byte, so a peer trickling 1 byte per second never trips them.
    """

    def __init__(self, deadline: float):
        self.expired = threading.Event()
        self._stops: list = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()

    def watch(self, stop) -> None:
        with self._lock:
            if not self.expired.is_set():
                self._stops.append(stop)
                return
        _call_quietly(stop)  # registered after the deadline: stop at once

    def _fire(self) -> None:
        with self._lock:
            self.expired.set()
            stops, self._stops = self._stops, []
        for stop in stops:
            _call_quietly(stop)


def _call_quietly(stop) -> None:
    try:
        stop()
    except (RuntimeError, ValueError, OSError):  # already read and released to the pool, or already closed
        pass


def _server_message(payload) -> str:
    """The ``error.message`` of an OpenAI-style error body, shortened; "" when there is none."""
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:MAX_SERVER_MESSAGE_CHARS] if message else ""


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return float(Retry.DEFAULT.parse_retry_after(value))
    except urllib3.exceptions.InvalidHeader:
        return None


def _backoff_s(attempt: int) -> float:
    """Exponential backoff with equal jitter: half the step fixed, half random (so clients spread out)."""
    step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return step / 2 + random.uniform(0, step / 2)


def _cause(error: BaseException) -> str:
    """Class name of the innermost exception, e.g. 'ConnectionRefusedError': says what happened, shows no URL."""
    for _ in range(8):  # chains from requests are short; the bound guards against cycles
        links = (getattr(error, "reason", None), error.args[0] if error.args else None, error.__cause__,
                 error.__context__)
        inner = next((link for link in links if isinstance(link, BaseException)), None)
        if inner is None:
            break
        error = inner
    return type(error).__name__
