"""The released classifier's labels, per-recording aggregation over segments, and decision thresholds."""

from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from ..payload import is_finite_number

# Output order of wanglab/ecg-fm mimic_iv_ecg_finetuned.pt (ECG-FM repository, mimic_iv_ecg_label_def.csv).
MIMIC_IV_ECG_LABELS: tuple[str, ...] = (
    "Poor data quality",
    "Sinus rhythm",
    "Premature ventricular contraction",
    "Tachycardia",
    "Ventricular tachycardia",
    "Supraventricular tachycardia with aberrancy",
    "Atrial fibrillation",
    "Atrial flutter",
    "Bradycardia",
    "Accessory pathway conduction",
    "Atrioventricular block",
    "1st degree atrioventricular block",
    "Bifascicular block",
    "Right bundle branch block",
    "Left bundle branch block",
    "Infarction",
    "Electronic pacemaker",
)

# Findings that may show in one 5 s segment only (ectopy, runs, paced beats, noise): a recording has them
# when any segment does. Rhythm and morphology labels are averaged over segments instead.
MAX_OVER_SEGMENTS: frozenset[str] = frozenset({
    "Poor data quality",
    "Premature ventricular contraction",
    "Ventricular tachycardia",
    "Supraventricular tachycardia with aberrancy",
    "Electronic pacemaker",
})

DEFAULT_THRESHOLD = 0.5


def aggregate_segments(probabilities: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """(n_segments, n_labels) segment probabilities → (n_labels,) recording probabilities."""
    use_max = np.array([label in MAX_OVER_SEGMENTS for label in labels])
    return np.where(use_max, probabilities.max(axis=0), probabilities.mean(axis=0))


def default_thresholds(labels: Sequence[str]) -> dict[str, float]:
    return {label: DEFAULT_THRESHOLD for label in labels}


def parse_thresholds(value: Any, field: str, base: dict[str, float]) -> dict[str, float]:
    """``base`` updated from one number (every label) or ``{label: number}`` (the labels named).

    A string is decoded as JSON first (the ECGFM_THRESHOLDS setting). Values must lie strictly between
    0 and 1; an unknown label or a bad value is an `InputError` naming ``field``.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InputError(field, "expected a number or a JSON object {label: threshold}") from None
    if not isinstance(value, dict):
        number = _threshold(value, field)
        return {label: number for label in base}
    thresholds = dict(base)
    for label, threshold in value.items():
        if label not in thresholds:
            raise InputError(f"{field}.{label}", f"unknown label; expected one of: {', '.join(base)}")
        thresholds[label] = _threshold(threshold, f"{field}.{label}")
    return thresholds


def _threshold(value: Any, field: str) -> float:
    if isinstance(value, bool) or not is_finite_number(value):
        raise InputError(field, f"expected a number between 0 and 1, got {value!r}")
    if not 0.0 < value < 1.0:
        raise InputError(field, f"threshold {value:g} must lie strictly between 0 and 1")
    return float(value)
