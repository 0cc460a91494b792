"""`measure`: global measurements of one recording, the way 12-lead electrocardiographs make them.

Beats are found in every lead and kept when most leads agree; the dominant beats are averaged into a
median beat; the wave boundaries of that beat, over all leads at once, give the intervals; the net
wave areas in the limb leads give the axes. Anything that cannot be measured is None, with the
reason under ``unmeasured``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .. import qtc
from ..errors import InputError
from ..leads import CHEST_LEADS, LIMB_LEADS, with_derived_limb_leads
from .axes import LIMB_LEAD_VECTORS, frontal_axis_deg
from .bandwidth import StatedFilters, describe_bandwidth
from .delineate import Boundaries, delineate
from .filters import isoelectric_baseline, measurement_filter, to_analysis_rate
from .lead_selection import FLAT_MV, select_leads
from .pacing import beat_spikes, bridge_spikes, find_spikes, median_beat_spike, pacing_summary
from .per_lead import per_lead_measurements, voltage_criteria
from .rpeaks import find_beats
from .template import MedianBeat, align_to_template, beat_window_s, median_beat, spatial_velocity

# Result keys and units: heart_rate (bpm, mean ventricular rate), rr_interval, pr_interval, p_duration,
# qrs_duration, qt_interval, qtc_bazett, qtc_fridericia (ms), p_axis, qrs_axis, t_axis (degrees,
# frontal plane, -180..180), rhythm_regular (bool), beat_count (QRS complexes detected). The result
# also holds ``windows`` (median beats measured), ``unmeasured`` (key → reason), ``leads_left_out`` and
# ``leads_derived``.
MEASUREMENT_KEYS = ("heart_rate", "rr_interval", "pr_interval", "p_duration", "qrs_duration", "qt_interval",
                    "qtc_bazett", "qtc_fridericia", "p_axis", "qrs_axis", "t_axis", "rhythm_regular",
                    "beat_count")
_RATE_LIMITS_BPM = (20.0, 300.0)
_IRREGULAR_STEP_FRACTION = 0.1  # of the median RR: a larger median change between successive RRs is irregular
_IRREGULAR_FIT_PERCENTILE = 10  # of the RR intervals: the one an irregular rhythm's T wave must end within
_MIN_AXIS_AREA_MV_S = 0.001  # net limb-lead vector below this: the wave has no measurable axis
LONG_RECORD_S = 20.0  # longer records are measured in windows (shorter ones: one median beat over all beats)
WINDOW_S = 10.0  # the resting-ECG length cart algorithms are built for; QT and QTc are rate-matched per window
_WINDOW_PAD_S = 1.0  # signal kept either side of a window, so its first and last beats fit in the median beat
# the measurements made on a median beat (per window), as opposed to rate and rhythm (whole record)
WAVE_KEYS = ("pr_interval", "p_duration", "qrs_duration", "qt_interval", "qtc_bazett", "qtc_fridericia",
             "p_axis", "qrs_axis", "t_axis")


@dataclass(frozen=True)
class MedianBeatView:
    """One window's median beat with its boundaries, the lead names of its rows (live leads only), and
    where its dominant beats lie in the recording: sample ``beat.fiducial`` of the median beat is at
    each of ``beat_times_s`` (s from the recording's start), so a boundary b is at t + (b − fiducial) / fs."""

    beat: MedianBeat
    bounds: Boundaries
    lead_names: tuple[str, ...] | None
    beat_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class Analysis:
    """What measuring a recording found: the result dict, the beats and the representative median beat."""

    measurements: dict
    beats: np.ndarray  # QRS sample indices in the recording's own sampling (shared with the quality checks)
    median_beat: MedianBeatView | None = field(default=None)  # of the first window that gave one


def measure(signal, fs: float, lead_names: tuple[str, ...] | list[str] | None = None, *,
            sex: str | None = None, stated_filters: StatedFilters | None = None,
            pacemaker: bool | None = None) -> dict:
    """Global measurements of one recording; see `MEASUREMENT_KEYS` for the keys and units (`analyse` does
    the work and also returns the beats and the median beat)."""
    return analyse(signal, fs, lead_names, sex=sex, stated_filters=stated_filters, pacemaker=pacemaker).measurements


def analyse(signal, fs: float, lead_names: tuple[str, ...] | list[str] | None = None, *,
            sex: str | None = None, stated_filters: StatedFilters | None = None,
            pacemaker: bool | None = None) -> Analysis:
    """Global measurements of one recording; see `MEASUREMENT_KEYS` for the keys and units.

    ``signal`` is (n_leads, n_samples) in mV (a 1-D array is one lead), ``fs`` in Hz, ``lead_names``
    canonical names (ecg_core.leads) in row order, or None (then no axes). Never raises on flat or noisy
    signals: values are None and ``unmeasured`` maps each such key to the reason. A malformed array
    raises `InputError` naming ``inputs.signal``. Rate and rhythm come from every beat of the record;
    the wave measurements from one median beat per window of `WINDOW_S` (records longer than
    `LONG_RECORD_S`) or of the whole record, combined over windows by their median; ``windows`` says
    how many windows gave a median beat. ``per_lead`` ({lead: `per_lead.PER_LEAD_KEYS`}) and
    ``voltage_criteria`` (Sokolow-Lyon, Cornell; ``sex`` "M"/"F" sets Cornell's threshold) come from the
    median beat of the first window that gave one. ``pacing`` (`pacing.pacing_summary`) says which
    chambers a pacemaker paces; its spikes are bridged before anything is measured, and in ventricular
    pacing the PR interval is None; ``pacemaker`` (whether the patient has one, as the request or file states)
    gives it a note where the spikes say otherwise. ``bandwidth`` (`bandwidth.describe_bandwidth`) says what the
    recording's filters (``stated_filters``: what its file states), sampling rate and high-frequency content do to the
    measurements. ``leads_left_out`` ({lead: reason}) names the leads nothing is measured
    on (`lead_selection.select_leads`: flat, or far noisier than the others); ``leads_derived`` the limb leads
    derived from the live ones (`leads.derive_limb_leads`: from I and II, as carts do) and measured with them, where
    the recording has all six chest leads or none.
    """
    signal, names = validate_signal(signal, fs, lead_names)
    result: dict = {key: None for key in MEASUREMENT_KEYS}
    result.update(beat_count=0, windows=0, leads_derived=[],
                  pacing=pacing_summary(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=bool), fs),
                  per_lead={},
                  voltage_criteria=voltage_criteria({}, sex),
                  bandwidth=describe_bandwidth(None, fs, stated_filters, pacing_found=False))
    unmeasured: dict[str, str] = {}
    result["unmeasured"] = unmeasured
    used, result["leads_left_out"] = select_leads(signal, fs, list(names or map(str, range(signal.shape[0]))))
    if not used.any():
        _explain(result, unmeasured, f"the signal is flat (no lead varies by {FLAT_MV} mV or more)")
        return Analysis(result, np.zeros(0, dtype=np.int64))
    signal = signal[used]
    if names:
        live = tuple(name for name, keep in zip(names, used) if keep)
        if set(names) & set(CHEST_LEADS) in (set(), set(CHEST_LEADS)):
            # a standard set short of the limb leads a cart (or a six-lead device) derives from I and II: they are
            # part of every spatial curve, which weighs the frontal plane evenly only with all six (I and II alone:
            # QRS SD 28 ms and QT 28 on LUDB, 15 and 24 with six); a partial set is measured as sent (I, II and V2
            # with four derived limb leads would weigh the frontal plane six to one)
            signal, live, derived = with_derived_limb_leads(signal, live)
            result["leads_derived"] = list(derived)
        names = live
    spikes = find_spikes(signal, fs)
    analysed, rate = to_analysis_rate(bridge_spikes(signal, fs, spikes), fs)
    beats, analysed = find_beats(analysed, rate)  # baseline steps, if any, taken out of what is measured
    result["beat_count"] = int(beats.size)
    beats_at_fs = np.minimum(np.round(beats * fs / rate).astype(np.int64), signal.shape[1] - 1)
    filtered = measurement_filter(analysed, rate)
    ventricular_spikes_s, atrial_paced = beat_spikes(spikes / fs, beats / rate, spatial_velocity(filtered, rate)
                                                     if spikes.size else np.zeros(0), rate)
    result["pacing"] = pacing_summary(spikes, ventricular_spikes_s, atrial_paced, fs, pacemaker)
    result["bandwidth"] = describe_bandwidth(signal, fs, stated_filters,
                                             pacing_found=result["pacing"]["mode"] is not None)
    rr_s = np.diff(beats) / rate
    if rr_s.size < 1 or not _RATE_LIMITS_BPM[0] <= 60 / rr_s.mean() <= _RATE_LIMITS_BPM[1]:
        _explain(result, unmeasured, "no regular series of QRS complexes was found (too few beats, or noise)")
        return Analysis(result, beats_at_fs)
    mean_rr_s = float(rr_s.mean())
    result["heart_rate"] = round(60.0 / mean_rr_s, 1)
    result["rr_interval"] = round(1000 * mean_rr_s, 1)
    if rr_s.size >= 3:
        result["rhythm_regular"] = rhythm_is_regular(rr_s)
    else:
        unmeasured["rhythm_regular"] = "fewer than 4 beats: too few to judge regularity"
    fiducials, dominant = align_to_template(filtered, rate, beats)
    # a ventricular-paced QRS starts after its spike: the median beat's boundaries need to know where it is
    paced_spikes_s = (ventricular_spikes_s[np.isfinite(ventricular_spikes_s)] if result["pacing"]["ventricular"]
                      else None)
    per_window = [_measure_window(filtered, rate, names, fiducials, dominant, start, stop, paced_spikes_s)
                  for start, stop in _windows(filtered.shape[1], rate)]
    measured = [values for values, _, _ in per_window if values is not None]
    result["windows"] = len(measured)
    for key in WAVE_KEYS:
        found = [values[key] for values in measured if values[key] is not None]
        if found and 2 * len(found) >= len(per_window):  # a value needs at least half of the windows
            result[key] = _combine(key, found)
        else:
            reasons = [reasons[key] for _, reasons, _ in per_window if key in reasons]
            if reasons:
                unmeasured[key] = Counter(reasons).most_common(1)[0][0]
    if result["pacing"]["ventricular"]:
        result["pr_interval"] = None
        unmeasured["pr_interval"] = ("ventricular pacing: the pacemaker, not the conduction from the atria, "
                                     "starts the QRS complex")
    _explain(result, unmeasured, "not measurable on this recording")
    view = next((view for _, _, view in per_window if view is not None), None)
    if view is not None:
        result["per_lead"] = per_lead_measurements(view.beat, view.bounds, view.lead_names)
        result["voltage_criteria"] = voltage_criteria(result["per_lead"], sex)
    return Analysis(result, beats_at_fs, view)


def rhythm_is_regular(rr_s: np.ndarray) -> bool:
    """False when successive RR intervals (s) typically differ by more than `_IRREGULAR_STEP_FRACTION`.

    The median beat-to-beat change is large in an irregularly irregular rhythm (atrial fibrillation)
    and small in sinus rhythm, whether the rate drifts or steps over a long record, and whatever a
    few premature beats do (each changes only two of the intervals).
    """
    steps = np.abs(np.diff(rr_s))
    return bool(steps.size == 0 or np.median(steps) <= _IRREGULAR_STEP_FRACTION * np.median(rr_s))


def _windows(n_samples: int, rate: float) -> list[tuple[int, int]]:
    """[start, stop) sample ranges: the whole record, or about `WINDOW_S` each for a long record."""
    if n_samples <= LONG_RECORD_S * rate:
        return [(0, n_samples)]
    edges = np.linspace(0, n_samples, round(n_samples / (WINDOW_S * rate)) + 1).astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def _combine(key: str, values: list) -> float:
    """Median over windows; axes (degrees) by the median of their unit vectors, so -179° and 179° agree."""
    if key.endswith("_axis"):
        radians = np.radians(values)
        return round(math.degrees(math.atan2(np.median(np.sin(radians)), np.median(np.cos(radians)))), 1)
    return round(float(np.median(values)), 1)


def _measure_window(filtered: np.ndarray, rate: float, names: tuple[str, ...] | None, fiducials: np.ndarray,
                    dominant: np.ndarray, start: int, stop: int, paced_spikes_s: np.ndarray | None = None
                    ) -> tuple[dict | None, dict[str, str], MedianBeatView | None]:
    """({key: value or None for `WAVE_KEYS`}, {key: reason}, the median beat) from the median beat of the
    beats whose fiducial lies in [start, stop); values and beat are None when no median beat was built.
    ``paced_spikes_s``: the ventricular pacing spikes (s from the recording's start), when the beats are paced."""
    in_window = (fiducials >= start) & (fiducials < stop)
    inside = fiducials[in_window]
    if inside.size < 2:
        return None, {key: "fewer than 2 beats in a window: no median beat" for key in WAVE_KEYS}, None
    # the beats' own stretch of signal, with room for the first and last beat's waves
    pad = int(_WINDOW_PAD_S * rate)
    first, last = max(0, start - pad), min(filtered.shape[1], stop + pad)
    segment, inside = filtered[:, first:last], inside - first
    dominant = inside[dominant[in_window]]
    mean_rr_s = float(np.mean(np.diff(inside))) / rate
    median_rr_s = float(np.median(np.diff(inside))) / rate
    window_s = beat_window_s(median_rr_s)
    beat = median_beat(segment, rate, dominant, *window_s)
    if beat is None:
        return None, {key: "no complete dominant beat to build a median beat from" for key in WAVE_KEYS}, None
    regular = rhythm_is_regular(np.diff(inside) / rate)
    # an irregular rhythm's waves must fit before its shorter intervals, not the mean one
    fit_rr_s = mean_rr_s if regular else float(np.percentile(np.diff(inside), _IRREGULAR_FIT_PERCENTILE)) / rate
    beat_times_s = (dominant + first) / rate
    spike = None if paced_spikes_s is None else median_beat_spike(paced_spikes_s, beat_times_s, beat.fiducial, rate)
    limb_leads_only = names is not None and set(names) <= set(LIMB_LEADS)
    bounds = delineate(beat, fit_rr_s, regular, spike, limb_leads_only=limb_leads_only)
    if bounds.qrs_on is not None:  # second pass with the wander left by the filter removed beat by beat
        segment = segment - isoelectric_baseline(segment, rate, inside + bounds.pr_segment_end - beat.fiducial)
        beat = median_beat(segment, rate, dominant, *window_s)
        bounds = delineate(beat, fit_rr_s, regular, spike, limb_leads_only=limb_leads_only)
    values: dict = {key: None for key in WAVE_KEYS}
    reasons: dict[str, str] = {}
    for key, reason in (bounds.problems or {}).items():
        for measurement in {"qrs": ("qrs_duration", "qt_interval", "qrs_axis"), "t_end": ("qt_interval", "t_axis"),
                            "p": ("pr_interval", "p_duration", "p_axis")}[key]:
            reasons.setdefault(measurement, reason)
    ms = 1000.0 / rate
    if bounds.qrs_on is not None:
        values["qrs_duration"] = round((bounds.qrs_off - bounds.qrs_on) * ms, 1)
    if bounds.p_on is not None and bounds.p_off is not None:
        values["pr_interval"] = round((bounds.qrs_on - bounds.p_on) * ms, 1)
        values["p_duration"] = round((bounds.p_off - bounds.p_on) * ms, 1)
    if bounds.t_end is not None:
        qt_ms = (bounds.t_end - bounds.qrs_on) * ms
        values["qt_interval"] = round(qt_ms, 1)
        values["qtc_bazett"] = round(qtc.bazett(qt_ms, mean_rr_s), 1)  # each window with its own RR
        values["qtc_fridericia"] = round(qtc.fridericia(qt_ms, mean_rr_s), 1)
    _measure_axes(values, reasons, beat.waveform, rate, names, bounds)
    return values, reasons, MedianBeatView(beat, bounds, names, beat_times_s)


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
