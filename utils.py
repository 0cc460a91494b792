"""Helpers shared by the handler: the timing helper and (issue 7) the DeepSeek commentary client."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


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
