"""Hugging Face Inference Endpoints custom handler for ECG-FM, PULSE-7B and tabular ECG models.

The toolkit imports this file from the repository root, calls ``EndpointHandler(model_dir)`` once and then
``handler(data)`` per request. All the work happens in the `ecg_core` package; see README.md.
"""

from __future__ import annotations

from typing import Any

from ecg_core.engine import Engine
from ecg_core.settings import Settings


class EndpointHandler:
    def __init__(self, path: str = ""):
        self.engine = Engine(Settings.from_env(path or "."))

    def __call__(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return self.engine(data)

    def health(self) -> dict[str, Any]:
        return self.engine.health()
