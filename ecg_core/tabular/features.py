"""Feature rows computed from a raw ECG, so a model fit on them can predict straight from a signal.

Two feature sets, recorded in a model's index entry at fit time (``feature_set``) so the same extraction runs
at predict time. A model uses any subset of a set's names (its ``feature_names``), in its own order.

``ecg_measurements``: one row per recording, the global measurements of `ecg_core.measure.measure`
(intervals in ms, rate in bpm, axes in degrees) plus RR variability of the beats they were measured on.

``beats``: one row per heartbeat, from the R peaks of one lead (II when present): RR intervals (ms), their
ratios (unitless), the heart rate (bpm) and the beat's own QRS width (ms, over all leads, by the rule the
median beat is measured with). A beat needs two beats before it and one after, so the first two and the
last beat of a recording get no row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..signal import Recording

_MEASURED = ("heart_rate", "rr_interval", "pr_interval", "p_duration", "qrs_duration", "qt_interval",
             "qtc_bazett", "qtc_fridericia", "p_axis", "qrs_axis", "t_axis", "rhythm_regular")
RECORDING_FEATURES = (*_MEASURED, "rr_sdnn", "rr_rmssd")
BEAT_FEATURES = ("rr_ms", "previous_rr_ms", "rr_ratio", "next_rr_ratio", "rr_local_ratio",
                 "heart_rate_bpm", "heart_rate_change_bpm", "qrs_width_ms")
FEATURE_SETS = {"ecg_measurements": RECORDING_FEATURES, "beats": BEAT_FEATURES}
_LOCAL_RR_BEATS = 8  # RR intervals in the running median a beat's RR is compared with
_SIGNAL_FIELD = "inputs.signal"


@dataclass(frozen=True)
class FeatureTable:
    """Rows of one feature set (all its names, in set order), and the R-peak sample of each beat row."""

    names: tuple[str, ...]
    rows: np.ndarray  # (n_rows, len(names)) float64; NaN where a value could not be measured
    beat_samples: np.ndarray | None  # (n_rows,) sample index of each beat; None for per-recording rows
    missing_reasons: dict[str, str]  # feature name -> why it is NaN


def compute(feature_set: str, recording: Recording) -> FeatureTable:
    if feature_set == "ecg_measurements":
        return recording_features(recording)
    if feature_set == "beats":
        return beat_features(recording)
    raise ValueError(f"unknown feature set {feature_set!r}")  # the registry only records known sets


def recording_features(recording: Recording) -> FeatureTable:
    """One row: the recording's global measurements and RR variability (SDNN, RMSSD in ms), both from one
    `measure.analyse` (the beats the measurements rest on)."""
    from ..measure import analyse

    analysis = analyse(recording.signal, recording.fs, recording.lead_names)
    measured = analysis.measurements
    values = {name: measured.get(name) for name in _MEASURED}
    reasons = {name: str(measured.get("unmeasured", {}).get(name, "not measured"))
               for name, value in values.items() if value is None}
    rr_ms = np.diff(analysis.beats) / recording.fs * 1000.0
    if rr_ms.size >= 2:
        values["rr_sdnn"] = float(np.std(rr_ms, ddof=1))
        values["rr_rmssd"] = float(np.sqrt(np.mean(np.diff(rr_ms) ** 2)))
    else:
        reasons.update(rr_sdnn="fewer than 3 beats", rr_rmssd="fewer than 3 beats")
    row = [np.nan if values.get(name) is None else float(values[name]) for name in RECORDING_FEATURES]
    return FeatureTable(RECORDING_FEATURES, np.array([row]), None, reasons)


def beat_features(recording: Recording) -> FeatureTable:
    """One row per beat that has two beats before it and one after (see the module docstring).

    ``qrs_width_ms`` is NaN for a beat without a clear QRS complex (a flat or noise-only stretch), with the
    count and the first such beat's time under ``missing_reasons``.
    """
    from ..measure import qrs_durations_ms

    peaks = _rhythm_lead_peaks(recording)
    if peaks.size < 4:
        raise InputError(_SIGNAL_FIELD, f"found {peaks.size} heartbeats; per-beat features need at least 4")
    rr_ms = np.diff(peaks) / recording.fs * 1000.0  # rr_ms[k] is the interval ending at peaks[k + 1]
    beats = np.arange(2, peaks.size - 1)
    rr, previous_rr, next_rr = rr_ms[beats - 1], rr_ms[beats - 2], rr_ms[beats]
    local_rr = np.array([np.median(rr_ms[max(0, k - _LOCAL_RR_BEATS):k]) for k in beats - 1])
    heart_rate, previous_heart_rate = 60_000.0 / rr, 60_000.0 / previous_rr
    qrs_width_ms = qrs_durations_ms(recording.signal, recording.fs, peaks[beats])
    rows = np.column_stack([rr, previous_rr, rr / previous_rr, next_rr / rr, rr / local_rr,
                            heart_rate, heart_rate - previous_heart_rate, qrs_width_ms])
    reasons = {}
    if np.isnan(qrs_width_ms).any():
        first_s = peaks[beats][np.isnan(qrs_width_ms)][0] / recording.fs
        reasons["qrs_width_ms"] = (f"no clear QRS complex at {int(np.isnan(qrs_width_ms).sum())} of "
                                   f"{qrs_width_ms.size} beats, the first at {first_s:.2f} s")
    return FeatureTable(BEAT_FEATURES, rows, peaks[beats], reasons)


def _rhythm_lead_peaks(recording: Recording) -> np.ndarray:
    """R peaks of lead II when present (the usual rhythm strip), otherwise of the first lead."""
    names = recording.lead_names or ()
    lead_index = names.index("II") if "II" in names else 0
    from ..measure import detect_r_peaks  # NeuroKit2 loads only when a signal is given (fast CLI start)

    return detect_r_peaks(recording.signal[lead_index], recording.fs)
