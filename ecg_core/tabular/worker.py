"""Fits run in a child process with a wall-clock limit, and only a few at once.

A fit is CPU-bound Python/C code that nothing inside the server process can interrupt: with unbounded
hyperparameters it ran on after its client left and only killing the server stopped it. Here it runs in
a forkserver child that is killed at the deadline; `FitSlots` caps how many run at once and refuses the
rest with `Busy` (HTTP 503 with Retry-After). The fitted pipeline comes back pickled through a pipe from
that child, our own process, not from a file a client could have written.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from ..errors import Busy, InputError, ModelError
from .training import Progress, fit_with_holdout

log = logging.getLogger(__name__)
_CONTEXT = multiprocessing.get_context("forkserver")  # no fork of a threaded server; imports done once
_CONTEXT.set_forkserver_preload(["ecg_core.tabular.training"])


class FitSlots:
    """At most `limit` fits at once; a fit beyond that is refused at once (no queue to wait in)."""

    def __init__(self, limit: int, retry_after_s: float):
        self.limit = limit
        self.retry_after_s = retry_after_s
        self._slots = threading.BoundedSemaphore(limit)

    def __enter__(self) -> "FitSlots":
        if not self._slots.acquire(blocking=False):
            raise Busy(f"{self.limit} fits are already running; try again later", self.retry_after_s)
        return self

    def __exit__(self, *exc_info) -> None:
        self._slots.release()


def fit_in_worker(pipeline: Pipeline, model_type: str, X: np.ndarray, y: np.ndarray | None, labels_field: str,
                  progress: Progress, *, timeout_s: float, error_field: str) -> tuple[Pipeline, dict, dict]:
    """`training.fit_with_holdout` in a child process; InputError(error_field) when it runs past `timeout_s`
    or scikit-learn refuses the data or hyperparameters."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_fit_child, args=(sender, pipeline, model_type, X, y, labels_field, error_field),
                             name="tabular-fit", daemon=True)
    started = time.monotonic()
    child.start()
    sender.close()  # ours: the child holds its own end, so its exit shows here as EOF
    try:
        while True:
            remaining = started + timeout_s - time.monotonic()
            if remaining <= 0 or not receiver.poll(remaining):
                log.warning("stopped fit worker %s after %g s (ECG_FIT_TIMEOUT_S)", child.pid, timeout_s)
                raise InputError(error_field, f"the fit did not finish within {timeout_s:g} s "
                                 "(ECG_FIT_TIMEOUT_S) and was stopped; use fewer rows, estimators or iterations")
            try:
                kind, *payload = receiver.recv()
            except EOFError:
                child.join(1)
                raise ModelError(f"the fit worker exited unexpectedly (exit code {child.exitcode})") from None
            if kind == "progress":
                progress(payload[0])
            elif kind == "done":
                return payload[0]
            elif kind == "input_error":
                raise InputError(*payload)
            else:
                raise ModelError(f"the fit failed: {payload[0]}")
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)


def _fit_child(sender, pipeline, model_type, X, y, labels_field, error_field) -> None:
    def progress(stage: str) -> None:
        sender.send(("progress", stage))

    try:
        outcome: Any = ("done", fit_with_holdout(pipeline, model_type, X, y, labels_field, progress))
    except InputError as error:  # sent as its parts: exceptions with custom __init__ do not unpickle
        outcome = ("input_error", error.field, error.problem)
    except (ValueError, TypeError, OverflowError) as error:  # scikit-learn refusing the client's rows/settings
        outcome = ("input_error", error_field, f"the fit failed on these rows and hyperparameters: "
                   f"{type(error).__name__}: {str(error)[:200]}")
    except Exception as error:
        outcome = ("error", f"{type(error).__name__}: {error}"[:300])
    sender.send(outcome)
    sender.close()
