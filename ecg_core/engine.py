"""The engine behind `EndpointHandler`: request → validated typed request → routes → list of result dicts.

It owns the settings and one lazy slot per model, runs a parsed request's items (batching signals through
ECG-FM together), labels demo output, adds the optional Turkish commentary, and reports health.
"""

from __future__ import annotations

import functools
import platform
from importlib import metadata
from typing import Any

from . import __version__, analysis, images, render
from .commentary import Commentator
from .contract import GenerateTask, ListModelsTask, ParsedRequest, PredictTask, SignalTask, parse_request
from .ecgfm import runner as ecgfm_runner
from .errors import ModelError
from .jsonable import to_jsonable
from .pulse import service as pulse_service
from .settings import Settings
from .slots import ModelSlot
from .tabular import service as tabular_service
from utils import timed

DEMO_NOTICE = "demo weights: generated for demonstration only, not a medical device and not a diagnosis"


class Engine:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.slots = {
            "ecgfm": ModelSlot("ECG-FM", lambda: ecgfm_runner.build_runner(settings)),
            "pulse": ModelSlot("PULSE-7B", lambda: pulse_service.build_service(settings)),
            "tabular": ModelSlot("tabular models", lambda: tabular_service.build_service(settings)),
        }
        self.commentator = Commentator(settings)
        if settings.preload:
            for slot in self.slots.values():
                slot.preload()

    def __call__(self, data: Any) -> list[dict]:
        return self.run(parse_request(data, self.settings))

    def run(self, request: ParsedRequest) -> list[dict]:
        """One parsed request (`contract.parse_request`) to its list of results; callers that already
        parsed it (the page, which also draws the decoded recording) need not decode a file twice."""
        results = self._execute(request)
        if self.settings.demo:
            for result in results:
                result.update(weights="demo", notice=DEMO_NOTICE)
        self.commentator.annotate(results, request.commentary)
        return [to_jsonable(result) for result in results]

    def _execute(self, request: ParsedRequest) -> list[dict]:
        tasks = request.tasks
        # Fetch and decode every image first: a bad URL in item 3 fails the request before any model runs;
        # the pixel budget bounds what that holds in memory.
        budget = images.PixelBudget(self.settings.limits.max_request_image_pixels)
        images_by_index = {i: self._image_for(task, budget) for i, task in enumerate(tasks)
                           if isinstance(task, GenerateTask)}
        results: list[dict | None] = [None] * len(tasks)
        signal_indices = [i for i, task in enumerate(tasks) if isinstance(task, SignalTask)]
        if signal_indices:
            outputs = analysis.run_signal_tasks([tasks[i] for i in signal_indices], request.signal_options,
                                                self.slots["ecgfm"])
            for i, output in zip(signal_indices, outputs):
                results[i] = output
        for i, task in enumerate(tasks):
            if results[i] is not None:
                continue
            with timed() as timer:
                if isinstance(task, GenerateTask):
                    result = self._generate(task, images_by_index[i], request)
                elif isinstance(task, PredictTask):
                    tabular = self.slots["tabular"].get()
                    result = {"task": "predict", **tabular.predict(
                        task.model_id, task.rows, task.recording, rows_field=f"{task.prefix}.{task.rows_key}",
                        id_field=f"{task.prefix}.model_id")}
                else:
                    assert isinstance(task, ListModelsTask)
                    result = {"task": "list_models", **self.slots["tabular"].get().list_models()}
            result.setdefault("model", "tabular")
            result.setdefault("processing_time", round(timer.seconds, 4))
            results[i] = result
        return results  # type: ignore[return-value]

    def _image_for(self, task: GenerateTask, budget: images.PixelBudget):
        if task.recording is not None:
            return render.render_ecg(task.recording)
        if task.image is not None:
            return images.load_image(task.image, task.image_field, self.settings, budget)
        return None

    def _generate(self, task: GenerateTask, image, request: ParsedRequest) -> dict:
        service = self.slots["pulse"].get()
        # The signal's own analysis first: a signal ECG-FM refuses (too short, say) fails before PULSE runs.
        signal_analysis = (analysis.analyze_or_measure(task.recording, request.signal_options, self.slots["ecgfm"])
                           if task.recording is not None else None)
        result: dict[str, Any] = {"model": "PULSE-7B", "task": "generate"}
        try:
            result.update(service.generate(task.query, image, task.history, request.generation), success=True)
        except ModelError as error:
            # The seed handler's clients read result[0]["generated_text"] even on failure.
            result.update(generated_text="", error=str(error), success=False)
        if signal_analysis is not None:
            result["signal_analysis"] = signal_analysis
        return result

    def health(self) -> dict:
        return {
            "status": "ok",
            "demo": self.settings.demo,
            "models": {name: slot.status() for name, slot in self.slots.items()},
            "commentary": self.commentator.describe(),
            "versions": _versions(),
        }


@functools.cache  # fixed for the life of the process; health is polled often
def _versions() -> dict:
    versions = {"ecg_core": __version__, "python": platform.python_version()}
    for package in ("torch", "transformers", "scikit-learn", "numpy", "neurokit2"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions
