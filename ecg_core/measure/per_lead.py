"""Per-lead measurements on the median beat, as carts print them, and the QRS voltage criteria of LVH.

Every amplitude is in mV from the isoelectric (PR segment) level the global boundaries were found with;
durations in ms, the QRS area in mV·ms (= µV·s). The waves of one lead are taken inside the global
boundaries: Q is the negative deflection before the R wave, R the largest positive deflection, S the
negative deflection after it; each wave's duration is the width of its lobe between zero crossings.
"""

from __future__ import annotations

import numpy as np

from .delineate import Boundaries
from .template import MedianBeat

_MIN_WAVE_MV = 0.02  # a lobe smaller than this is not called a Q, R or S wave
_ST_LATE_MS = 60.0  # the second ST level is taken this long after the J point
_ST_AVERAGE_MS = 4.0  # ST levels: mean over this long around the point (one sample is noisy)
PER_LEAD_KEYS = ("p_amplitude_mv", "q_amplitude_mv", "q_duration_ms", "r_amplitude_mv", "r_duration_ms", "s_amplitude_mv",
                 "s_duration_ms", "qrs_area_mv_ms", "st_j_mv", "st_j60_mv", "t_amplitude_mv")


def per_lead_measurements(beat: MedianBeat, bounds: Boundaries, names: tuple[str, ...] | None) -> dict[str, dict]:
    """{lead name (or row index as text): {`PER_LEAD_KEYS`: value or None}} on the median beat.

    P and T amplitudes are the largest deflection of either sign between the wave's boundaries (None
    without them); ST levels at the J point (QRS offset) and 60 ms later. Empty without a QRS.
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
        values.update(_qrs_waves(qrs, ms))
        values["qrs_area_mv_ms"] = round(float(np.sum(qrs) * ms), 2)
        values["st_j_mv"] = _level(lead, bounds.qrs_off, fs)
        values["st_j60_mv"] = _level(lead, bounds.qrs_off + int(round(_ST_LATE_MS / ms)), fs)
        if bounds.p_on is not None and bounds.p_off is not None:
            values["p_amplitude_mv"] = _extreme(lead[bounds.p_on:bounds.p_off + 1])
        if bounds.t_end is not None:
            values["t_amplitude_mv"] = _extreme(lead[bounds.qrs_off:bounds.t_end + 1])
        result[label] = values
    return result


def voltage_criteria(per_lead: dict[str, dict], sex: str | None) -> dict:
    """Sokolow-Lyon (S V1 + the taller R of V5/V6 ≥ 3.5 mV) and Cornell (R aVL + S V3 > 2.8 mV men,
    > 2.0 mV women) voltages in mV with whether each is met; None where a lead is missing (Cornell's
    verdict also without sex, as its threshold depends on it)."""
    def depth(lead: str, wave: str) -> float | None:
        value = per_lead.get(lead, {}).get(f"{wave}_amplitude_mv")
        return None if value is None else abs(value)

    s_v1, r_v5, r_v6, r_avl, s_v3 = (depth("V1", "s"), depth("V5", "r"), depth("V6", "r"), depth("aVL", "r"),
                                    depth("V3", "s"))
    taller = max((value for value in (r_v5, r_v6) if value is not None), default=None)
    sokolow = round(s_v1 + taller, 3) if s_v1 is not None and taller is not None else None
    cornell = round(r_avl + s_v3, 3) if r_avl is not None and s_v3 is not None else None
    cornell_limit = {"M": 2.8, "F": 2.0}.get(sex or "")
    return {"sokolow_lyon_mv": sokolow, "sokolow_lyon_lvh": None if sokolow is None else sokolow >= 3.5,
            "cornell_mv": cornell, "cornell_threshold_mv": cornell_limit,
            "cornell_lvh": None if cornell is None or cornell_limit is None else cornell > cornell_limit}


def _qrs_waves(qrs: np.ndarray, ms: float) -> dict:
    """Q, R and S amplitudes (mV; Q and S negative, 0 when absent) and lobe durations (ms) of one lead."""
    values = {"q_amplitude_mv": 0.0, "q_duration_ms": 0.0, "r_amplitude_mv": 0.0, "r_duration_ms": 0.0,
              "s_amplitude_mv": 0.0, "s_duration_ms": 0.0}
    if qrs.size < 2:
        return values
    r_peak = int(np.argmax(qrs))
    if qrs[r_peak] >= _MIN_WAVE_MV:
        values["r_amplitude_mv"], values["r_duration_ms"] = _lobe(qrs, r_peak, ms)
        before, after = qrs[:r_peak], qrs[r_peak:]
    else:  # a QS complex: one negative lobe, reported as S (carts print QS as the S wave's depth)
        before, after, r_peak = qrs[:0], qrs, 0
    if before.size and before.min() <= -_MIN_WAVE_MV:
        values["q_amplitude_mv"], values["q_duration_ms"] = _lobe(qrs, int(np.argmin(before)), ms)
    if after.size and after.min() <= -_MIN_WAVE_MV:
        values["s_amplitude_mv"], values["s_duration_ms"] = _lobe(qrs, r_peak + int(np.argmin(after)), ms)
    return values


def _lobe(signal: np.ndarray, peak: int, ms: float) -> tuple[float, float]:
    """(amplitude at ``peak``, width in ms of the lobe around it between sign changes)."""
    sign = np.sign(signal[peak])
    same = np.sign(signal) == sign
    start = peak
    while start > 0 and same[start - 1]:
        start -= 1
    stop = peak
    while stop < signal.size - 1 and same[stop + 1]:
        stop += 1
    return round(float(signal[peak]), 3), round((stop - start + 1) * ms, 1)


def _extreme(wave: np.ndarray) -> float | None:
    return round(float(wave[np.argmax(np.abs(wave))]), 3) if wave.size else None


def _level(lead: np.ndarray, index: int, fs: float) -> float | None:
    half = max(1, int(_ST_AVERAGE_MS * fs / 2000))
    if index - half < 0 or index + half >= lead.size:
        return None
    return round(float(lead[index - half:index + half + 1].mean()), 3)
