"""The demo tabular model: trained at first use on measurement rows this module generates, never shipped.

The rows are synthetic global measurements (the ``ecg_measurements`` feature set, so the demo model also
predicts from a raw signal) labelled by textbook thresholds: PROBLEM when the heart rate is outside
50-100 bpm, QRS ≥ 120 ms, QTc (Bazett) > 470 ms or RR RMSSD > 100 ms (an irregular rhythm); NORM otherwise.
It learns those rules and nothing clinical beyond them.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelNotConfigured
from .service import DEMO_MODEL_ID, TabularService
DEMO_FEATURES = ("heart_rate", "qrs_duration", "qt_interval", "qtc_bazett", "rr_rmssd")
DEMO_DESCRIPTION = ("Demo model, trained at first use on synthetic measurement rows labelled by textbook "
                    "thresholds (rate outside 50-100 bpm, QRS >= 120 ms, QTc > 470 ms, RR RMSSD > 100 ms "
                    "→ PROBLEM). Not a clinical model.")
_ROWS = 1200
_SEED = 20240


def synthetic_measurement_rows(count: int = _ROWS, seed: int = _SEED) -> tuple[np.ndarray, list[str]]:
    """(count × DEMO_FEATURES matrix, NORM/PROBLEM labels), physiologically consistent (QT from QTc and RR)."""
    rng = np.random.default_rng(seed)
    heart_rate_bpm = np.exp(rng.normal(np.log(75), 0.3, count))
    qrs_ms = np.where(rng.random(count) < 0.15, rng.normal(140, 15, count), rng.normal(94, 10, count))
    qtc_ms = np.where(rng.random(count) < 0.12, rng.normal(500, 25, count), rng.normal(420, 22, count))
    qt_ms = qtc_ms * np.sqrt(60.0 / heart_rate_bpm)  # Bazett: QTc = QT / sqrt(RR in s)
    rmssd_ms = np.where(rng.random(count) < 0.12, rng.normal(160, 40, count),
                        np.exp(rng.normal(np.log(30), 0.5, count)))
    rows = np.column_stack([heart_rate_bpm, qrs_ms, qt_ms, qtc_ms, np.abs(rmssd_ms)])
    problem = ((heart_rate_bpm < 50) | (heart_rate_bpm > 100) | (qrs_ms >= 120) | (qtc_ms > 470)
               | (np.abs(rmssd_ms) > 100))
    return rows, ["PROBLEM" if flag else "NORM" for flag in problem]


def ensure_demo_model(service: TabularService) -> dict:
    """The ``demo`` index entry, fitting the model first when the registry has no intact demo model."""
    entry = service.registry.entry(DEMO_MODEL_ID)
    if entry is not None and entry.get("demo"):
        try:
            service.registry.load(DEMO_MODEL_ID)  # its file is present and matches the index
            return entry
        except ModelNotConfigured:
            pass  # missing or altered on disk: restored below
    rows, labels = synthetic_measurement_rows()
    return service.fit(DEMO_MODEL_ID, rows.tolist(), labels, model_type="random_forest",
                       hyperparameters={"n_estimators": 100, "max_depth": 8}, feature_names=DEMO_FEATURES,
                       feature_set="ecg_measurements", demo_description=DEMO_DESCRIPTION)
