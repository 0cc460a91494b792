"""Lazy, thread-safe, load-once model slots with a state that `health()` can report.

A route's model loads on first use (or at start-up with ECG_PRELOAD=1). A replica whose PULSE weights are
missing keeps serving the other routes: the failure stays inside that slot and is reported, and a failed
load is retried only after `retry_after_s` so a broken route does not reload on every request.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from .errors import ModelNotConfigured

NOT_LOADED, LOADING, READY, NOT_CONFIGURED, FAILED = "not_loaded", "loading", "ready", "not_configured", "failed"


class ModelSlot:
    def __init__(self, name: str, loader: Callable[[], Any], retry_after_s: float = 60.0):
        self.name = name
        self._loader = loader
        self._retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self._value: Any = None
        self._state = NOT_LOADED
        self._reason = ""
        self._failed_at = 0.0
        self._load_seconds: float | None = None

    def get(self) -> Any:
        """The loaded model; loads it first if needed. Raises ModelNotConfigured when it cannot be had."""
        if self._state == READY:
            return self._value
        with self._lock:
            if self._state == READY:
                return self._value
            if self._state in (NOT_CONFIGURED, FAILED) and time.monotonic() - self._failed_at < self._retry_after_s:
                raise ModelNotConfigured(self._message())
            self._state = LOADING
            started = time.perf_counter()
            try:
                value = self._loader()
            except ModelNotConfigured as error:
                self._fail(NOT_CONFIGURED, str(error))
                raise ModelNotConfigured(self._message()) from error
            except Exception as error:  # a broken checkpoint must not take the replica down
                self._fail(FAILED, f"{type(error).__name__}: {error}"[:500])
                raise ModelNotConfigured(self._message()) from error
            self._value, self._state, self._reason = value, READY, ""
            self._load_seconds = round(time.perf_counter() - started, 3)
            return value

    def _message(self) -> str:
        verb = "failed to load" if self._state == FAILED else "is not configured"
        return f"{self.name} {verb}: {self._reason}"

    def _fail(self, state: str, reason: str) -> None:
        self._state, self._reason, self._failed_at = state, reason, time.monotonic()

    def preload(self) -> None:
        try:
            self.get()
        except ModelNotConfigured:
            pass  # recorded in the state; health() reports it

    def status(self) -> dict:
        status: dict[str, Any] = {"state": self._state}
        if self._reason:
            status["reason"] = self._reason
        if self._state == READY:
            status["load_seconds"] = self._load_seconds
            describe = getattr(self._value, "describe", None)
            try:
                status.update(describe() if callable(describe) else {})
            except Exception as error:  # e.g. a damaged registry index: report it, keep health answering
                status.update(state=FAILED, reason=f"{type(error).__name__}: {error}"[:500])
        return status
