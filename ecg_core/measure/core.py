"""`measure`: global measurements of one recording, the way 12-lead electrocardiographs make them.

Beats are found in every lead and kept when most leads agree; the dominant beats are averaged into a
median beat; the wave boundaries of that beat, over all leads at once, give the intervals; the net
wave areas in the limb leads give the axes. Anything that cannot be measured is None, with the
reason under ``unmeasured``.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .axes import LIMB_LEAD_VECTORS, frontal_axis_deg
from .delineate import Boundaries, delineate
from .filters import bandpass, isoelectric_baseline, remove_powerline, to_analysis_rate
from .rpeaks import consensus_beats
from .template import align_beats, dominant_mask, median_beat

# Result keys and units: heart_rate (bpm, mean ventricular rate), rr_interval, pr_interval, p_duration,
# qrs_duration, qt_interval, qtc_bazett, qtc_fridericia (ms), p_axis, qrs_axis, t_axis (degrees,
# frontal plane, -180..180), rhythm_regular (bool), beat_count (QRS complexes detected).
MEASUREMENT_KEYS = ("heart_rate", "rr_interval", "pr_interval", "p_duration", "qrs_duration", "qt_interval",
                    "qtc_bazett", "qtc_fridericia", "p_axis", "qrs_axis", "t_axis", "rhythm_regular",
                    "beat_count")
_FLAT_MV = 0.02  # a lead whose band-passed peak-to-peak is below this carries no ECG
_RATE_LIMITS_BPM = (20.0, 300.0)
_IRREGULAR_RR_FRACTION = 0.15  # an RR this far from the median RR is irregular ...
_IRREGULAR_SHARE = 0.25  # ... and a rhythm with more than this share of such RRs is irregular
_MIN_AXIS_AREA_MV_S = 0.001  # net limb-lead vector below this: the wave has no measurable axis


def measure(signal, fs: float, lead_names: tuple[str, ...] | list[str] | None = None) -> dict:
    """Global measurements of one recording; see `MEASUREMENT_KEYS` for the keys and units.

    ``signal`` is (n_leads, n_samples) in mV (a 1-D array is one lead), ``fs`` in Hz, ``lead_names``
    canonical names (ecg_core.leads) in row order, or None (then no axes). Never raises on flat or noisy
    signals: values are None and ``unmeasured`` maps each such key to the reason. A malformed array
    raises `InputError` naming ``inputs.signal``.
    """
    signal, names = validate_signal(signal, fs, lead_names)
    result: dict = {key: None for key in MEASUREMENT_KEYS}
    result["beat_count"] = 0
    unmeasured: dict[str, str] = {}
    result["unmeasured"] = unmeasured
    live = np.ptp(bandpass(signal, fs), axis=1) >= _FLAT_MV
    if not live.any():
        _explain(result, unmeasured, f"the signal is flat (no lead varies by {_FLAT_MV} mV or more)")
        return result
    analysed, rate = to_analysis_rate(signal[live], fs)
    names = tuple(name for name, keep in zip(names, live) if keep) if names else None
    beats = consensus_beats(analysed, rate)
    result["beat_count"] = int(beats.size)
    rr_s = np.diff(beats) / rate
    if rr_s.size < 1 or not _RATE_LIMITS_BPM[0] <= 60 / rr_s.mean() <= _RATE_LIMITS_BPM[1]:
        _explain(result, unmeasured, "no regular series of QRS complexes was found (too few beats, or noise)")
        return result
    mean_rr_s = float(rr_s.mean())
    result["heart_rate"] = round(60.0 / mean_rr_s, 1)
    result["rr_interval"] = round(1000 * mean_rr_s, 1)
    if rr_s.size >= 3:
        irregular = np.abs(rr_s - np.median(rr_s)) > _IRREGULAR_RR_FRACTION * np.median(rr_s)
        result["rhythm_regular"] = bool(irregular.mean() <= _IRREGULAR_SHARE)
    else:
        unmeasured["rhythm_regular"] = "fewer than 4 beats: too few to judge regularity"
    _measure_median_beat(result, unmeasured, analysed, rate, names, beats, mean_rr_s)
    _explain(result, unmeasured, "not measurable on this recording")
    return result


def _measure_median_beat(result: dict, unmeasured: dict, analysed: np.ndarray, rate: float,
                         names: tuple[str, ...] | None, beats: np.ndarray, mean_rr_s: float) -> None:
    filtered = bandpass(remove_powerline(analysed, rate), rate)
    fiducials = align_beats(filtered, rate, beats)
    dominant = fiducials[dominant_mask(filtered, rate, fiducials)]
    median_rr_s = float(np.median(np.diff(beats))) / rate
    window_s = (min(0.45, 0.6 * median_rr_s), min(0.7, 0.95 * median_rr_s))
    beat = median_beat(filtered, rate, dominant, *window_s)
    if beat is None:
        _explain(result, unmeasured, "no complete dominant beat to build a median beat from")
        return
    bounds = delineate(beat, mean_rr_s)
    if bounds.qrs_on is not None:  # second pass with the wander left by the filter removed beat by beat
        filtered = filtered - isoelectric_baseline(filtered, rate, fiducials + bounds.qrs_on - beat.fiducial)
        beat = median_beat(filtered, rate, dominant, *window_s)
        bounds = delineate(beat, mean_rr_s)
    for key, reason in (bounds.problems or {}).items():
        for field in {"qrs": ("qrs_duration", "qt_interval", "qrs_axis"), "t_end": ("qt_interval", "t_axis"),
                      "p": ("pr_interval", "p_duration", "p_axis")}[key]:
            unmeasured.setdefault(field, reason)
    ms = 1000.0 / rate
    if bounds.qrs_on is not None:
        result["qrs_duration"] = round((bounds.qrs_off - bounds.qrs_on) * ms, 1)
    if bounds.p_on is not None and bounds.p_off is not None:
        result["pr_interval"] = round((bounds.qrs_on - bounds.p_on) * ms, 1)
        result["p_duration"] = round((bounds.p_off - bounds.p_on) * ms, 1)
    if bounds.t_end is not None:
        qt_ms = (bounds.t_end - bounds.qrs_on) * ms
        result["qt_interval"] = round(qt_ms, 1)
        result["qtc_bazett"] = round(qt_ms / math.sqrt(mean_rr_s), 1)
        result["qtc_fridericia"] = round(qt_ms / mean_rr_s ** (1 / 3), 1)
    _measure_axes(result, unmeasured, beat.waveform, rate, names, bounds)


def _measure_axes(result: dict, unmeasured: dict, waveform: np.ndarray, rate: float,
                  names: tuple[str, ...] | None, bounds: Boundaries) -> None:
    limb = [index for index, name in enumerate(names or ()) if name in LIMB_LEAD_VECTORS]
    if len(limb) < 2:
        reason = ("lead names not given" if names is None
                  else "axes need two limb leads (I and aVF, or any two of I, II, III, aVR, aVL, aVF)")
        for key in ("p_axis", "qrs_axis", "t_axis"):
            unmeasured.setdefault(key, reason)
        return
    waves = {"p_axis": (bounds.p_on, bounds.p_off), "qrs_axis": (bounds.qrs_on, bounds.qrs_off),
             "t_axis": (bounds.qrs_off, bounds.t_end)}
    for key, (start, stop) in waves.items():
        if start is None or stop is None or bounds.baseline_mv is None:
            continue
        areas = {names[i]: float(np.sum(waveform[i, start:stop + 1] - bounds.baseline_mv[i]) / rate) for i in limb}
        result[key] = frontal_axis_deg(areas, _MIN_AXIS_AREA_MV_S)
        if result[key] is None:
            unmeasured[key] = "the wave has no net direction in the limb leads (isoelectric)"


def _explain(result: dict, unmeasured: dict, reason: str) -> None:
    """Give every still-missing measurement a reason (the first reason found wins)."""
    for key in MEASUREMENT_KEYS:
        if result[key] is None:
            unmeasured.setdefault(key, reason)


def validate_signal(signal, fs, lead_names=None) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """(n_leads, n_samples) float64 array and lead names; `InputError` naming the field otherwise."""
    try:
        array = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("inputs.signal", "expected a numeric array (leads × samples)") from None
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] < 2:
        raise InputError("inputs.signal", f"expected a (leads × samples) array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise InputError("inputs.signal", "contains NaN or infinite values")
    if isinstance(fs, bool) or not isinstance(fs, (int, float, np.number)) or not math.isfinite(fs) or fs <= 0:
        raise InputError("inputs.fs", f"expected a positive sampling rate in Hz, got {fs!r}")
    if array.shape[1] / fs < 1.0:
        raise InputError("inputs.signal", f"{array.shape[1] / fs:.2f} s is too short to measure (at least 1 s)")
    if lead_names is not None and len(lead_names) != array.shape[0]:
        raise InputError("inputs.lead_names", f"{len(lead_names)} names for {array.shape[0]} leads")
    return array, tuple(lead_names) if lead_names is not None else None
