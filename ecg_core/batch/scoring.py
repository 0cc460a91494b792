"""The actor that scores parsed rows: ECG-FM loaded once per actor, the endpoint's signal route per batch.

Each batch of parsed rows goes through `analysis.run_signal_tasks`, the very function behind
`EndpointHandler`'s signal tasks, so all recordings of a batch share one batched ECG-FM forward. A recording
the route refuses (too short for ECG-FM, say) would fail its whole batch: the batch is then re-run one
recording at a time, so only that recording becomes an error row.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pyarrow as pa

from .. import analysis
from ..contract import SignalOptions, SignalTask
from ..ecgfm import runner as ecgfm_runner
from ..ecgfm.labels import MIMIC_IV_ECG_LABELS
from ..errors import InputError, ModelNotConfigured
from ..files import EcgFile
from ..jsonable import to_jsonable
from ..measure.bandwidth import StatedFilters
from ..patient import Patient
from ..settings import Settings
from ..signal import Recording
from ..slots import ModelSlot
from . import schema
from .parse import MAX_ERROR_CHARS

MODEL_TASKS = ("analyze", "features")
log = logging.getLogger(__name__)


class Scorer:
    """Ray Data callable class: a batch of parsed rows (numpy format) → a table with the output schema."""

    def __init__(self, settings: Settings, task: str, options: SignalOptions):
        self.task, self.options = task, options
        self.weights = "demo" if settings.demo else None
        self.ecgfm = ModelSlot("ECG-FM", lambda: ecgfm_runner.build_runner(settings))
        embedding_dim = None
        if task in MODEL_TASKS:
            runner = self.ecgfm.get()  # once per actor; a missing model stops the run here, with the reason
            if tuple(runner.labels) != MIMIC_IV_ECG_LABELS:
                raise ModelNotConfigured("the batch output has columns for the 17 MIMIC-IV-ECG labels; "
                                         f"this classifier has {len(runner.labels)} other labels")
            if task == "features" or options.return_features:
                embedding_dim = runner.feature_dim()
        self.schema = schema.output_schema(embedding_dim)

    def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
        rows = [{name: batch[name][i] for name in batch} for i in range(len(batch["source"]))]
        results = iter(self._results([signal_task(self.task, row) for row in rows if not row["error"]]))
        return schema.to_table([self._row(row, row["error"] or next(results)) for row in rows], self.schema)

    def _row(self, row: dict[str, Any], result: dict | str) -> dict[str, Any]:
        if isinstance(result, str):
            return schema.error_row(row["source"], result, self.task, row["format"] or None)
        return schema.result_row(row["source"], row["format"], result, weights=self.weights)

    def _results(self, tasks: list[SignalTask]) -> list[dict | str]:
        """The endpoint's result dict per task, or the error message of one it refuses."""
        try:
            return self._run(tasks)
        except Exception:  # noqa: BLE001 - find the recording(s) to blame, one at a time
            return [self._one(task) for task in tasks]

    def _one(self, task: SignalTask) -> dict | str:
        try:
            return self._run([task])[0]
        except InputError as error:
            return str(error)[:MAX_ERROR_CHARS]
        except Exception as error:  # noqa: BLE001 - a bug on one odd recording must not stop the run
            log.exception("scoring failed on one recording")
            return f"internal error: {type(error).__name__}: {error}"[:MAX_ERROR_CHARS]

    def _run(self, tasks: list[SignalTask]) -> list[dict]:
        return [to_jsonable(result) for result in analysis.run_signal_tasks(tasks, self.options, self.ecgfm)]


def signal_task(task: str, row: dict[str, Any]) -> SignalTask:
    """A parsed row (see `parse.parsed_row`) → the endpoint's `SignalTask` for it, file findings and patient included."""
    signal = np.frombuffer(row["signal"], dtype=np.float64).reshape(int(row["n_leads"]), -1)
    names = json.loads(row["lead_names"])
    recording = Recording(signal=signal, fs=float(row["fs"]), lead_names=tuple(names) if names else None,
                          notes=tuple(json.loads(row["notes"])), filters=_stated_filters(row["filters_json"]))
    patient = Patient(**json.loads(row["patient_json"]))
    cart = json.loads(row["cart_json"])
    source = None if cart is None else EcgFile(format=row["format"], recording=recording, age_years=patient.age_years,
                                               sex=patient.sex, **cart)
    return SignalTask(task, recording, source=source, patient=patient)


def _stated_filters(column: str) -> StatedFilters | None:
    values = json.loads(column)
    return None if values is None else StatedFilters(**values)
