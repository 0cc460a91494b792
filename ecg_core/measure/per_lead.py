"""Per-lead measurements on the median beat, as carts print them, and the QRS voltage criteria of LVH.

Every amplitude is in mV from the isoelectric (PR segment) level the global boundaries were found with;
durations in ms, the QRS area in mV·ms (= µV·s). The waves of one lead are taken inside the global
boundaries, and cut into lobes of one sign each (`wave_lobes`), named as carts name them (`qrs_waves`);
each wave's duration is the width of its lobe between zero crossings.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .delineate import Boundaries
from .template import MedianBeat
from .trapezium import trapezium_boundary

_MIN_WAVE_MV = 0.02  # a QRS lobe smaller than this is not called a Q, R, S, R' or S' wave
_MIN_P_LOBE_MV = 0.015  # a P lobe smaller than this is not (a part of) the P wave
_MIN_T_LOBE_MV = 0.05  # nor a T lobe smaller than this (an ST segment sagging a little before the T wave)
_ST_LATE_MS = 60.0  # the second ST level is taken this long after the J point
_ST_AVERAGE_MS = 4.0  # ST levels: mean over this long around the point (one sample is noisy)
PER_LEAD_KEYS = ("p_amplitude_mv", "p_prime_amplitude_mv", "p_duration_ms", "q_amplitude_mv", "q_duration_ms",
                 "r_amplitude_mv", "r_duration_ms", "s_amplitude_mv", "s_duration_ms", "r_prime_amplitude_mv",
                 "r_prime_duration_ms", "s_prime_amplitude_mv", "s_prime_duration_ms",
                 "qrs_area_mv_ms", "st_j_mv", "st_j60_mv", "t_amplitude_mv", "t_prime_amplitude_mv")


class _Lobe(NamedTuple):
    """One deflection from the isoelectric level: samples [start, stop] of one sign, its extreme at ``peak``."""

    start: int
    stop: int
    peak: int


def per_lead_measurements(beat: MedianBeat, bounds: Boundaries, names: tuple[str, ...] | None) -> dict[str, dict]:
    """{lead name (or row index as text): {`PER_LEAD_KEYS`: value or None}} on the median beat.

    Each wave is cut into lobes (one sign each) inside the global boundaries: the P wave's first lobe is
    P, an opposite second one P' (a biphasic P); likewise T and T' from the J point to the T end; the
    lead's P duration runs from its first P lobe's start to its last one's end (`_wave_duration_ms`). P
    and T values are None without the wave's boundaries; ST levels at the J point (QRS offset) and 60 ms
    later. Empty without a QRS.
    """
    if bounds.qrs_on is None or bounds.qrs_off is None or bounds.baseline_mv is None:
        return {}
    fs = beat.fs
    ms = 1000.0 / fs
    leads = beat.waveform - bounds.baseline_mv[:, None]
    labels = names if names is not None else tuple(str(index) for index in range(leads.shape[0]))
    result = {}
    for label, lead in zip(labels, leads):
        values: dict = dict.fromkeys(PER_LEAD_KEYS)
        qrs = lead[bounds.qrs_on:bounds.qrs_off + 1]
        values.update(qrs_waves(qrs, ms))
        values["qrs_area_mv_ms"] = round(float(np.sum(qrs) * ms), 2)
        values["st_j_mv"] = _level(lead, bounds.qrs_off, fs)
        values["st_j60_mv"] = _level(lead, bounds.qrs_off + int(round(_ST_LATE_MS / ms)), fs)
        if bounds.p_on is not None and bounds.p_off is not None:
            p_wave = lead[bounds.p_on:bounds.p_off + 1]
            p_lobes = wave_lobes(p_wave, _MIN_P_LOBE_MV)
            values["p_amplitude_mv"], values["p_prime_amplitude_mv"] = _biphasic(p_wave, p_lobes)
            values["p_duration_ms"] = _wave_duration_ms(p_wave, p_lobes, ms)
        if bounds.t_end is not None:
            t_wave = lead[bounds.qrs_off:bounds.t_end + 1]
            t_lobes = wave_lobes(t_wave, _MIN_T_LOBE_MV)
            values["t_amplitude_mv"], values["t_prime_amplitude_mv"] = _biphasic(t_wave, t_lobes)
        result[label] = values
    return result


def voltage_criteria(per_lead: dict[str, dict], sex: str | None) -> dict:
    """Sokolow-Lyon (S V1 + the taller R of V5/V6 ≥ 3.5 mV) and Cornell (R aVL + S V3 > 2.8 mV men,
    > 2.0 mV women) voltages in mV with whether each is met; None where a lead is missing (Cornell's
    verdict also without sex, as its threshold depends on it)."""
    def height(lead: str) -> float | None:
        values = per_lead.get(lead)
        return None if not values else values["r_amplitude_mv"]

    def depth(lead: str) -> float | None:  # of the S wave; a QS complex's (reported as Q) counts as one
        values = per_lead.get(lead)
        if not values:
            return None
        qs = values["r_amplitude_mv"] == 0.0
        return abs(values["q_amplitude_mv"] if qs else values["s_amplitude_mv"])

    s_v1, r_v5, r_v6, r_avl, s_v3 = depth("V1"), height("V5"), height("V6"), height("aVL"), depth("V3")
    taller = max((value for value in (r_v5, r_v6) if value is not None), default=None)
    sokolow = round(s_v1 + taller, 3) if s_v1 is not None and taller is not None else None
    cornell = round(r_avl + s_v3, 3) if r_avl is not None and s_v3 is not None else None
    cornell_limit = {"M": 2.8, "F": 2.0}.get(sex or "")
    return {"sokolow_lyon_mv": sokolow, "sokolow_lyon_lvh": None if sokolow is None else sokolow >= 3.5,
            "cornell_mv": cornell, "cornell_threshold_mv": cornell_limit,
            "cornell_lvh": None if cornell is None or cornell_limit is None else cornell > cornell_limit}


def qrs_waves(qrs: np.ndarray, ms: float) -> dict:
    """Q, R, S, R', S' amplitudes (mV; Q, S and S' negative; 0 when absent) and durations (ms) of one lead's QRS.

    Its lobes of `_MIN_WAVE_MV` or more (`wave_lobes`) are named in order, as carts name them: the first
    positive lobe is R, a second one R'; a negative lobe before R is Q, one between R and R' is S, one
    after R' is S'. A QRS with no positive lobe is a QS complex, reported as Q.
    """
    values = {f"{wave}_{unit}": 0.0 for wave in ("q", "r", "s", "r_prime", "s_prime")
              for unit in ("amplitude_mv", "duration_ms")}
    positive_seen = 0
    for lobe in wave_lobes(qrs, _MIN_WAVE_MV):
        if qrs[lobe.peak] > 0:
            positive_seen += 1
            name = {1: "r", 2: "r_prime"}.get(positive_seen)
        else:
            name = {0: "q", 1: "s", 2: "s_prime"}.get(positive_seen)
        if name is not None and values[f"{name}_duration_ms"] == 0.0:
            values[f"{name}_amplitude_mv"] = round(float(qrs[lobe.peak]), 3)
            values[f"{name}_duration_ms"] = round((lobe.stop - lobe.start + 1) * ms, 1)
    return values


def wave_lobes(wave: np.ndarray, min_mv: float) -> list[_Lobe]:
    """The deflections of ``wave`` (mV from the isoelectric level) of at least ``min_mv``, in order.

    A smaller excursion across the baseline (noise, a notch) is part of the lobes around it, which then
    join. A lobe at either end of ``wave`` whose extreme is its end sample, not turning back towards the
    baseline by ``min_mv`` inside the window, is the level the window ends in (an elevated J point in an
    ST elevation, the ST level a T window starts at), not a wave of its own.
    """
    sign = np.where(wave >= 0, 1, -1)
    edges = np.flatnonzero(np.diff(sign)) + 1
    runs = [(int(start), int(stop) - 1) for start, stop in zip(np.r_[0, edges], np.r_[edges, wave.size])]
    kept: list[_Lobe] = []
    for start, stop in runs:
        peak = start + int(np.argmax(np.abs(wave[start:stop + 1])))
        if abs(wave[peak]) < min_mv:
            continue
        if kept and np.sign(wave[kept[-1].peak]) == np.sign(wave[peak]):  # only noise between: one lobe
            previous = kept.pop()
            peak = peak if abs(wave[peak]) > abs(wave[previous.peak]) else previous.peak
            start = previous.start
        kept.append(_Lobe(start, stop, peak))
    return [lobe for lobe in kept if _turns_back(wave, lobe, min_mv)]


def _turns_back(wave: np.ndarray, lobe: _Lobe, min_mv: float) -> bool:
    """Whether the lobe's extreme lies inside ``wave``: not still rising away from the baseline at an end."""
    extreme = abs(wave[lobe.peak])
    if lobe.start == 0 and extreme - abs(wave[0]) < min_mv:
        return False
    return not (lobe.stop == wave.size - 1 and extreme - abs(wave[-1]) < min_mv)


def _biphasic(wave: np.ndarray, lobes: list[_Lobe]) -> tuple[float, float]:
    """(first lobe's extreme, the second, opposite lobe's extreme or 0) of a P or T wave (mV) cut into
    ``lobes``; (extreme, 0) without a lobe (a flat wave)."""
    if not lobes:
        return (round(float(wave[np.argmax(np.abs(wave))]), 3) if wave.size else 0.0), 0.0
    second = round(float(wave[lobes[1].peak]), 3) if len(lobes) > 1 else 0.0
    return round(float(wave[lobes[0].peak]), 3), second


def _wave_duration_ms(wave: np.ndarray, lobes: list[_Lobe], ms: float) -> float:
    """From where the first lobe starts to where the last ends (ms; 0 without a lobe): the knees of the
    wave's magnitude (trapezium method) from the outer lobes' extremes towards the window's ends, not
    the lobes' zero crossings, which a noisy isoelectric line sets at random."""
    if not lobes:
        return 0.0
    magnitude = np.abs(wave)
    onset = trapezium_boundary(magnitude, lobes[0].peak, 0)
    offset = trapezium_boundary(magnitude, lobes[-1].peak, wave.size - 1)
    onset = lobes[0].start if onset is None else onset
    offset = lobes[-1].stop if offset is None else offset
    return round((offset - onset + 1) * ms, 1)


def _level(lead: np.ndarray, index: int, fs: float) -> float | None:
    half = max(1, int(_ST_AVERAGE_MS * fs / 2000))
    if index - half < 0 or index + half >= lead.size:
        return None
    return round(float(lead[index - half:index + half + 1].mean()), 3)
