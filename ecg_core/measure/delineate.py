"""Global wave boundaries on the median beat, over all leads at once.

QRS onset and offset are where the spatial velocity (slope over all leads) leaves and returns to the
isoelectric level, which makes them the earliest onset and latest offset over the leads. The P wave
and the end of the T wave are found on the spatial magnitude (distance from the isoelectric level over
all leads) with the trapezium-area method of Vázquez-Seisdedos et al. (2011), which needs no
amplitude threshold and is robust to noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from .template import MedianBeat, spatial_velocity

_QRS_SEARCH_S = (0.15, 0.2)  # QRS boundaries are looked for this far before / after the fiducial point
_QRS_CORE_FRACTION = 0.3  # of the peak slope: clearly inside the QRS
_QRS_EDGE_FRACTION = 0.06  # of the peak slope above the isoelectric floor: the QRS boundary
_QRS_MAX_PAUSE_S = 0.012  # a shorter dip of the slope below that level is a peak inside the QRS
_QRS_KNEE_REACH_S = 0.03  # the knee of the slope is looked for this far beyond the edge crossing ...
_QRS_QUIET_FRACTION = 0.02  # ... and not beyond where the slope falls below this (see README: chosen on
# LUDB DEV and the cart files together, which disagree by ~15 ms)
_MAX_PR_S = 0.42  # P onset is looked for at most this long before QRS onset
_MIN_P_MV = 0.04  # a P wave smaller than this (spatial magnitude) is not called
_P_NOISE_FACTOR = 6.0  # ... nor one less than this many times the noise in the median beat
_T_GAP_S = 0.04  # the T wave is looked for this long after QRS offset
_T_TAIL_S = 0.25  # reference point of the trapezium: this long after the T peak's steepest descent
_HIDDEN_P_S = 0.25  # a T wave ending closer than this to the next QRS may hide that beat's P wave (PR ≤ 250 ms)
_TP_MERGED_FRACTION = 0.3  # of the P peak: a T-P valley higher than this has no isoelectric TP segment


@dataclass(frozen=True)
class Boundaries:
    """Sample indices in the median beat (None: not found)."""

    qrs_on: int | None = None
    qrs_off: int | None = None
    p_on: int | None = None
    p_off: int | None = None
    t_end: int | None = None
    baseline_mv: np.ndarray | None = None  # per lead: the isoelectric (PR segment) level
    problems: dict[str, str] | None = None  # boundary name → why it is missing


def delineate(beat: MedianBeat, rr_s: float, regular: bool = True) -> Boundaries:
    """QRS, then the T peak, P wave and T end, on a median beat whose mean RR interval is ``rr_s`` s.

    ``regular``: whether the beats' RR intervals are regular; only then does the previous beat's T
    wave sit at one place in the median beat, where a P wave riding on it can be recognised.
    """
    fs, wave = beat.fs, beat.waveform
    qrs = qrs_bounds(spatial_velocity(wave, fs), fs, beat.fiducial, to_knees=True)
    if qrs is None:
        return Boundaries(problems={"qrs": "no clear QRS complex in the median beat"})
    qrs_on, qrs_off = qrs
    baseline = wave[:, max(0, qrs_on - int(0.02 * fs)):qrs_on + 1].mean(axis=1, keepdims=True)  # PR segment
    magnitude = np.sqrt(np.sum((wave - baseline) ** 2, axis=0))
    problems: dict[str, str] = {}
    t_wave = _t_peak(magnitude, fs, qrs_on, qrs_off, rr_s)
    p_on, p_off, valley = _p_wave(magnitude, wave - baseline, beat, qrs_on, t_wave and t_wave[0], rr_s,
                                  regular, problems)
    t_end = None
    if t_wave is None:
        problems["t_end"] = "no T wave found after the QRS complex"
    elif "t_end" not in problems:
        t_peak, stop = t_wave
        if valley is not None:  # the T wave ends before the next beat's T-P valley (one RR later)
            stop = min(stop, valley + int(round(rr_s * fs)))
        t_end = _t_end(magnitude, fs, t_peak, stop) if stop - t_peak > 2 else None
        if t_end is None:
            problems["t_end"] = "no T wave end found before the next beat"
        elif p_on is None and t_end > qrs_on + int((rr_s - _HIDDEN_P_S) * fs):
            t_end = None  # the next P wave may start inside this T wave, and its end may be the P wave's
            problems["t_end"] = ("the T wave ends too close to the next QRS complex and no separate P wave is "
                                 "seen: a P wave may be hidden in its end, so the end is not measured")
    return Boundaries(qrs_on, qrs_off, p_on, p_off, t_end, baseline[:, 0], problems)


def qrs_bounds(velocity: np.ndarray, fs: float, fiducial: int, *, to_knees: bool = False) -> tuple[int, int] | None:
    """(QRS onset, QRS offset) sample indices in ``velocity``, the spatial velocity (mV/s, see
    `spatial_velocity`) of one beat sampled at ``fs`` Hz, whose QRS is near sample ``fiducial``.

    The same rule for the median beat (`delineate`) and for single beats (`beats.qrs_durations_ms`):
    the QRS is where the slope rises clearly above the beat's quiet level (its 10th percentile); its
    boundaries are where the slope comes back near that level for longer than a peak's pause. That
    crossing is where most leads are busy; ``to_knees`` (the median beat, whose noise is averaged out)
    moves each boundary out to where the first lead starts / the last one ends: the knee of the slope
    (trapezium method) within `_QRS_KNEE_REACH_S`, not past where the slope is back at the quiet level.
    None when the slope near the fiducial does not rise above 3 times the quiet level (no clear QRS).
    """
    start = max(0, fiducial - int(_QRS_SEARCH_S[0] * fs))
    stop = min(velocity.size, fiducial + int(_QRS_SEARCH_S[1] * fs))
    peak = velocity[start:stop].max()
    floor = np.percentile(velocity, 10)
    if peak <= 3 * floor:
        return None
    core = np.flatnonzero(velocity[start:stop] >= floor + _QRS_CORE_FRACTION * (peak - floor)) + start
    edge = floor + _QRS_EDGE_FRACTION * (peak - floor)
    gap = max(2, int(_QRS_MAX_PAUSE_S * fs))
    onset = _last_above(velocity, core[0], start, edge, gap)
    offset = _last_above(velocity, core[-1], stop - 1, edge, gap)
    if not to_knees:
        return onset, offset
    reach = int(_QRS_KNEE_REACH_S * fs)
    quiet = floor + _QRS_QUIET_FRACTION * (peak - floor)
    knee_on = trapezium_boundary(velocity, onset, max(0, onset - reach))
    knee_off = trapezium_boundary(velocity, offset, min(velocity.size - 1, offset + reach))
    if knee_on is not None:
        onset = _last_above(velocity, onset, knee_on, quiet, 1)
    if knee_off is not None:
        offset = _last_above(velocity, offset, knee_off, quiet, 1)
    return onset, offset


def _last_above(velocity: np.ndarray, index: int, limit: int, edge: float, gap: int) -> int:
    """From ``index`` towards ``limit``: the last sample above ``edge`` before ``gap`` samples below it.

    The slope passes through zero for an instant at every peak inside the QRS (the apex of Q, R or S
    in a lead); only a longer quiet stretch is the isoelectric line.
    """
    step = 1 if limit > index else -1
    last, quiet = index, 0
    for position in range(index, limit + step, step):
        if velocity[position] > edge:
            last, quiet = position, 0
        else:
            quiet += 1
            if quiet >= gap:
                break
    return int(last)


def trapezium_boundary(curve: np.ndarray, peak: int, reference: int) -> int | None:
    """Where a wave of ``curve`` (≥ 0, highest at ``peak``) ends on its way towards ``reference``.

    Trapezium-area method: from the steepest point x_m between the peak and the reference x_r, the
    boundary is the x_i maximising (y_m - y_i)(|x_r - x_m| + |x_r - x_i|), the area of the trapezium
    under the tangent-free chord. Works in both directions (``reference`` before ``peak`` for onsets).
    """
    step = 1 if reference > peak else -1
    span = np.arange(peak, reference + step, step)
    if span.size < 3:
        return None
    values = curve[span]
    steepest = int(np.argmin(np.diff(values)))  # largest fall away from the peak
    y_m = values[steepest]
    distance_from_ref = np.abs(span[steepest:] - reference)
    area = (y_m - values[steepest:]) * (abs(reference - span[steepest]) + distance_from_ref)
    return int(span[steepest + int(np.argmax(area))])


def _t_peak(magnitude: np.ndarray, fs: float, qrs_on: int, qrs_off: int, rr_s: float) -> tuple[int, int] | None:
    """(T peak, end of the T search) in the median beat, or None when there is no room for a T wave."""
    start = qrs_off + int(_T_GAP_S * fs)
    stop = min(magnitude.size - 1, qrs_on + int(min(0.7, 0.92 * rr_s) * fs))
    if stop - start < int(0.08 * fs):
        return None
    t_peak = start + int(np.argmax(magnitude[start:stop]))
    return None if t_peak >= stop - 2 else (t_peak, stop)


def _t_end(magnitude: np.ndarray, fs: float, t_peak: int, stop: int) -> int | None:
    falls = np.diff(magnitude[t_peak:stop])
    steepest = t_peak + int(np.argmin(falls))
    reference = min(stop, steepest + int(_T_TAIL_S * fs))
    return trapezium_boundary(magnitude, t_peak, reference)


def _p_wave(magnitude: np.ndarray, deviation: np.ndarray, beat: MedianBeat, qrs_on: int, t_peak: int | None,
            rr_s: float, regular: bool, problems: dict[str, str]) -> tuple[int | None, int | None, int | None]:
    """(P onset, P offset, the T-P valley before the P wave), all None when no P wave is measured.

    The P wave is looked for between the previous beat's T peak and the QRS. Its onset is only
    measurable when the curve comes back to the isoelectric level between the two waves: at fast
    rates or with a long PR the P wave rides on the previous T wave, and then neither the P onset nor
    the end of that T wave can be told apart (both are left unmeasured, never guessed).
    """
    fs = beat.fs
    start = max(0, qrs_on - int(min(_MAX_PR_S, 0.9 * rr_s) * fs))
    if t_peak is not None:  # the previous beat's T peak lies one RR interval before this beat's
        start = max(start, t_peak - int(round(rr_s * fs)))
    stop = qrs_on - int(0.02 * fs)
    if stop - start < int(0.06 * fs):
        problems["p"] = "no room for a P wave between the previous T wave and the QRS complex"
        return None, None, None
    no_p = ("no consistent P wave before the QRS complexes (as in atrial fibrillation or flutter, junctional "
            "rhythm, a P wave hidden in the T wave at a fast rate, or a noisy baseline)")
    p_peak = _p_peak(magnitude, deviation if regular else None, beat.median_noise_mv, start, stop)
    if p_peak is None:
        problems["p"] = no_p
        return None, None, None
    valley = start + int(np.argmin(magnitude[start:p_peak + 1]))
    if magnitude[valley] > _TP_MERGED_FRACTION * magnitude[p_peak] and not regular:
        problems["p"] = no_p  # no isoelectric lead-in: the bump is what is left of varying T and f waves
        return None, None, None
    if magnitude[valley] > _TP_MERGED_FRACTION * magnitude[p_peak]:
        problems["p"] = problems["t_end"] = (
            "the P wave runs into the previous T wave (fast rate or long PR): the P onset and the end "
            "of the T wave cannot be separated")
        return None, None, None
    return (trapezium_boundary(magnitude, p_peak, valley), trapezium_boundary(magnitude, p_peak, qrs_on),
            valley)


def _p_peak(magnitude: np.ndarray, deviation: np.ndarray | None, lead_noise_mv: np.ndarray, start: int,
            stop: int) -> int | None:
    """Sample of the P peak in [start, stop): the most prominent bump of the spatial magnitude or,
    when it is only a shoulder there (a P wave on the slope of a T wave), of any single lead of
    ``deviation`` (either polarity; None: not looked for). None when no bump stands out of the noise."""
    threshold = max(_MIN_P_MV, _P_NOISE_FACTOR * float(np.sqrt(np.sum(lead_noise_mv ** 2))))
    peaks, properties = find_peaks(magnitude[start:stop], prominence=threshold)
    if peaks.size or deviation is None:
        return start + int(peaks[np.argmax(properties["prominences"])]) if peaks.size else None
    best, best_ratio = None, 1.0
    for lead, noise in zip(deviation, lead_noise_mv):
        lead_threshold = max(_MIN_P_MV, _P_NOISE_FACTOR * float(noise))
        for polarity in (1.0, -1.0):
            peaks, properties = find_peaks(polarity * lead[start:stop], prominence=lead_threshold)
            if peaks.size and properties["prominences"].max() / lead_threshold > best_ratio:
                best_ratio = properties["prominences"].max() / lead_threshold
                best = start + int(peaks[np.argmax(properties["prominences"])])
    return best
