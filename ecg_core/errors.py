"""The package's exception types.

`InputError` is the only exception a client can cause: its message names the request field and what was
wrong with it. The Inference Endpoints toolkit turns any exception into HTTP 400; the local server maps
`InputError` to 400, `ModelNotConfigured` and `Busy` to 503 and everything else to 500 (without a stack trace).
"""


class InputError(ValueError):
    """The request is malformed. The message starts with the offending field, e.g. ``inputs.fs: ...``."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)


class ModelNotConfigured(RuntimeError):
    """A route's model is not configured, not installed or failed to load on this replica."""


class ModelError(RuntimeError):
    """A model failed while processing a well-formed request."""


class Busy(RuntimeError):
    """Too much of this work is already running (e.g. fits); the client may retry after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: float):
        self.retry_after_s = retry_after_s
        super().__init__(message)
