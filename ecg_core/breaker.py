"""A circuit breaker for an upstream that may be down (DeepSeek), so an outage costs a few requests their
deadline instead of every request.

Closed: calls go through; `threshold` failures in a row open it. Open: calls are refused at once with the
reason, for `cooldown_s`. Then one call is let through as a probe (half-open): its success closes the
breaker, its failure opens it for another cool-down. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, name: str, threshold: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic):
        self.name, self.threshold, self.cooldown_s = name, threshold, cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._last_error = ""
        self._probing = False

    def refusal(self) -> str | None:
        """None when a call may go ahead now (it must then be `record`ed), else why it may not."""
        with self._lock:
            if self._state == CLOSED:
                return None
            wait_s = self._opened_at + self.cooldown_s - self._clock()
            if wait_s <= 0 and not self._probing:
                self._state, self._probing = HALF_OPEN, True
                return None  # this call is the probe
            next_try = "a probe is in flight" if self._probing else f"next try in {wait_s:.0f} s"
            return (f"{self.name} is skipped after {self._failures} failed calls in a row "
                    f"(last: {self._last_error}); {next_try}")

    def record(self, ok: bool, error: str = "") -> None:
        with self._lock:
            was_probe = self._state == HALF_OPEN
            self._probing = False
            if ok:
                self._state, self._failures = CLOSED, 0
                return
            self._failures += 1
            self._last_error = error[:160]
            if was_probe or self._failures >= self.threshold:
                self._state, self._opened_at = OPEN, self._clock()

    def describe(self) -> dict:
        with self._lock:
            return {"state": self._state, "consecutive_failures": self._failures,
                    "threshold": self.threshold, "cooldown_s": self.cooldown_s}
