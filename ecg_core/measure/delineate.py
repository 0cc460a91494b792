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

from .filters import lowpass
from .template import MedianBeat, spatial_velocity

_QRS_SEARCH_S = (0.15, 0.2)  # QRS boundaries are looked for this far before / after the fiducial point
_QRS_CORE_FRACTION = 0.3  # of the peak slope: clearly inside the QRS
_QRS_EDGE_FRACTION = 0.06  # of the peak slope above the isoelectric floor: the QRS boundary
_QRS_MAX_PAUSE_S = 0.012  # a shorter dip of the slope below that level is a peak inside the QRS
_QRS_KNEE_REACH_S = 0.03  # the knee of the slope is looked for this far beyond the edge crossing ...
_QRS_QUIET_FRACTION = 0.02  # ... and not beyond where the slope falls below this (see README: chosen on
# LUDB DEV and the cart files together, which disagree by ~15 ms)
_QRS_END_SLOPE_MV_S = 8.0  # spatial velocity: the QRS has ended once it stays below this (an ST segment sloping
# into the T wave keeps the slope at a few % of a small QRS's peak; chosen on LUDB DEV and the carts)
_LEAD_QRS_MIN_MV = 0.4  # a lead whose QRS spans this much may extend the global QRS ...
_LEAD_EDGE_FRACTION = 0.1  # ... while its own slope is above this fraction of its QRS peak slope ...
_LEAD_EDGE_MV_S = 5.0  # ... and above this: a slow terminal wave (RBBB's R' in V1) that sharper leads drown
_LEAD_REACH_S = (0.04, 0.06)  # ... by at most this much before the onset / after the offset
_MAX_PR_S = 0.45  # P onset is looked for at most this long before QRS onset (PR up to 400 ms, and a lead-in)
_MIN_P_MV = 0.04  # a P wave smaller than this (spatial magnitude) is not called
_P_NOISE_FACTOR = 6.0  # ... nor one less than this many times the noise in the median beat
_T_GAP_S = 0.04  # the T wave is looked for this long after QRS offset
_NEXT_P_PEAK_S = 0.2  # the next beat's P wave may peak from this long before its QRS
_T_RISE_FRACTION = 0.1  # of the T peak: a rise this large after the T wave's fall is the next wave
_T_TAIL_S = 0.25  # reference point of the trapezium: this long after the T peak's steepest descent
_HIDDEN_P_S = 0.25  # a T wave ending closer than this to the next QRS may hide that beat's P wave (PR ≤ 250 ms)
_TP_MERGED_FRACTION = 0.5  # of the P wave's upslope: a steeper opening of the P window is no quiet TP segment
_TP_QUIET_S = 0.016  # ... over this long
_MIN_P_S = 0.05  # a shorter P wave is only part of one
_TP_GAP_S = 0.02  # the P wave is looked for from this long after the previous T wave's end
_P_REACH_S = 0.1  # P boundaries: the trapezium's reference this far from the P peak (LUDB DEV)
_P_T_HIGH_HZ = 40.0  # P and T waves are found on the median beat low-passed to this


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
    """QRS, then the T peak, P wave and T end, on a median beat whose waves fit in ``rr_s`` s (the mean RR
    interval; a short one for an irregular rhythm).

    ``regular``: whether the beats' RR intervals are regular; only then does the previous beat's T
    wave sit at one place in the median beat, where a P wave riding on it can be recognised.
    """
    fs, wave = beat.fs, beat.waveform
    qrs = qrs_bounds(spatial_velocity(wave, fs), fs, beat.fiducial, to_knees=True)
    if qrs is None:
        return Boundaries(problems={"qrs": "no clear QRS complex in the median beat"})
    qrs_on, qrs_off = widen_to_leads(lowpass(wave, fs, _P_T_HIGH_HZ), fs, *qrs)
    baseline = wave[:, max(0, qrs_on - int(0.02 * fs)):qrs_on + 1].mean(axis=1, keepdims=True)  # PR segment
    deviation = lowpass(wave - baseline, fs, _P_T_HIGH_HZ)  # slow waves: the QRS band's noise is not needed
    magnitude = np.sqrt(np.sum(deviation ** 2, axis=0))
    problems: dict[str, str] = {}
    rr = int(round(rr_s * fs))
    t_wave = _t_peak(magnitude, fs, qrs_on, qrs_off, rr_s, regular)
    t_end = _t_end(magnitude, fs, *t_wave) if t_wave is not None else None
    # the previous beat's T wave ends one RR before this one's (only a regular rhythm puts it at one place)
    previous_t_end = t_end - rr if t_end is not None and regular else None
    p_on, p_off = _p_wave(deviation, beat, qrs_on, previous_t_end, rr_s, regular, problems)
    if "t_end" in problems:  # the P wave runs into this T wave's end (seen one RR later)
        t_end = None
    elif t_wave is None:
        problems["t_end"] = "no T wave found after the QRS complex"
    elif p_on is not None and t_end is not None and t_end >= p_on + rr:  # it ran into the next P wave
        t_end = _t_end(magnitude, fs, t_wave[0], p_on + rr - 1)
    if t_wave is not None and t_end is None and "t_end" not in problems:
        problems["t_end"] = "no T wave end found before the next beat"
    elif t_end is not None and p_on is None and regular and t_end > qrs_on + int((rr_s - _HIDDEN_P_S) * fs):
        # the next P wave may start inside this T wave, and its end may be the P wave's (an irregular
        # rhythm without P waves, as atrial fibrillation, has none to hide)
        t_end = None
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
    (trapezium method) within `_QRS_KNEE_REACH_S`, not past where the slope is back at the quiet level,
    and ends the QRS where the slope stays below `_QRS_END_SLOPE_MV_S` (an ST segment sloping into the
    T wave is not QRS however small the QRS).
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
    return onset, min(offset, _last_above(velocity, core[-1], stop - 1, floor + _QRS_END_SLOPE_MV_S, gap))


def widen_to_leads(wave: np.ndarray, fs: float, onset: int, offset: int) -> tuple[int, int]:
    """(onset, offset) moved out to the earliest start / latest end of the QRS in any single large lead.

    The spatial velocity is dominated by the leads with the sharpest QRS; a slow wave in another lead
    (the terminal R' of right bundle branch block in V1, a slurred start) barely shows in it. A lead
    whose QRS spans `_LEAD_QRS_MIN_MV` or more is busy while its own slope stays above both
    `_LEAD_EDGE_FRACTION` of its QRS peak slope and `_LEAD_EDGE_MV_S` (no longer than a peak's pause below).
    """
    low = max(0, onset - int(_LEAD_REACH_S[0] * fs))
    high = min(wave.shape[1] - 1, offset + int(_LEAD_REACH_S[1] * fs))
    gap = max(2, int(_QRS_MAX_PAUSE_S * fs))
    new_onset, new_offset = onset, offset
    for lead in wave:
        if np.ptp(lead[onset:offset + 1]) < _LEAD_QRS_MIN_MV:
            continue
        slope = np.abs(np.gradient(lead)) * fs
        floor = np.percentile(slope, 10)
        peak = slope[onset:offset + 1].max()
        busy = np.flatnonzero(slope[onset:offset + 1] >= floor + _QRS_CORE_FRACTION * (peak - floor)) + onset
        edge = floor + max(_LEAD_EDGE_FRACTION * (peak - floor), _LEAD_EDGE_MV_S)
        new_onset = min(new_onset, _last_above(slope, busy[0], low, edge, gap))
        new_offset = max(new_offset, _last_above(slope, busy[-1], high, edge, gap))
    return new_onset, new_offset


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


def _t_peak(magnitude: np.ndarray, fs: float, qrs_on: int, qrs_off: int, rr_s: float,
            regular: bool) -> tuple[int, int] | None:
    """(T peak, end of the T search) in the median beat, or None when there is no room for a T wave."""
    start = qrs_off + int(_T_GAP_S * fs)
    stop = min(magnitude.size - 1, qrs_on + int(min(0.7, 0.92 * rr_s) * fs))
    # the peak is not looked for where the next beat's P wave may peak (a sharp P can outgrow a flat T);
    # an irregular rhythm's median beat has no P wave at one place to avoid
    peak_stop = stop if not regular else max(start + int(0.08 * fs),
                                              min(stop, qrs_on + int((rr_s - _NEXT_P_PEAK_S) * fs)))
    if stop - start < int(0.08 * fs) or peak_stop > stop:
        return None
    t_peak = start + int(np.argmax(magnitude[start:peak_stop]))
    if t_peak >= peak_stop - 2:  # still rising there: the T wave itself peaks later (a long QT at a fast rate)
        t_peak = start + int(np.argmax(magnitude[start:stop]))
    return None if t_peak >= stop - 2 else (t_peak, stop)


def _t_end(magnitude: np.ndarray, fs: float, t_peak: int, stop: int) -> int | None:
    """End of the T wave (trapezium method) between its peak and ``stop``, which is first pulled back to
    where the curve rises again after falling (the next P wave, or a U wave): the TP level need not be
    the PR level the curve is measured from, so the lowest point may lie beyond the next P wave."""
    if stop - t_peak <= 2:
        return None
    after = magnitude[t_peak:stop + 1]
    rising = after - np.minimum.accumulate(after) > max(_MIN_P_MV / 2, _T_RISE_FRACTION * (after[0] - after.min()))
    if rising.any():
        stop = t_peak + max(2, int(np.argmax(rising)))
    falls = np.diff(magnitude[t_peak:stop])
    steepest = t_peak + int(np.argmin(falls))
    reference = min(stop, steepest + int(_T_TAIL_S * fs))
    return trapezium_boundary(magnitude, t_peak, reference)


def _p_wave(deviation: np.ndarray, beat: MedianBeat, qrs_on: int, previous_t_end: int | None, rr_s: float,
            regular: bool, problems: dict[str, str]) -> tuple[int | None, int | None]:
    """(P onset, P offset), both None when no P wave is measured.

    The P wave is looked for from the end of the previous beat's T wave (or `_MAX_PR_S` before the QRS)
    up to the QRS, on each lead's distance from a straight line through the window's two ends: the TP
    and PR levels differ (atrial repolarisation, wander), and the line leaves the P wave alone on a flat
    floor. An irregular rhythm has no one place for the previous T wave, so there the P wave must also
    stand clear of the start of the window (no isoelectric lead-in: what is left of varying T and f waves).
    """
    fs = beat.fs
    start = max(0, qrs_on - int(min(_MAX_PR_S, 0.9 * rr_s) * fs))
    if previous_t_end is not None:
        start = max(start, previous_t_end + int(_TP_GAP_S * fs))
    stop = qrs_on - int(0.01 * fs)
    if stop - start < int(0.06 * fs):
        problems["p"] = "no room for a P wave between the previous T wave and the QRS complex"
        return None, None
    edge = max(1, int(0.004 * fs))
    window = deviation[:, start:stop + 1]
    first, last = window[:, :edge].mean(axis=1), window[:, -edge:].mean(axis=1)
    detrended = window - (first[:, None] + np.outer(last - first, np.linspace(0.0, 1.0, window.shape[1])))
    magnitude = np.sqrt(np.sum(detrended ** 2, axis=0))
    p_peak = _p_peak(magnitude, detrended if regular else None, beat.median_noise_mv)
    no_p = ("no consistent P wave before the QRS complexes (as in atrial fibrillation or flutter, junctional "
            "rhythm, a P wave hidden in the T wave at a fast rate, or a noisy baseline)")
    if p_peak is None:
        problems["p"] = no_p
        return None, None
    reach = int(_P_REACH_S * fs)
    onset = trapezium_boundary(magnitude, p_peak, max(0, p_peak - reach))
    offset = trapezium_boundary(magnitude, p_peak, min(magnitude.size - 1, p_peak + reach))
    # a window opening on a moving curve, or a P wave too brief to be whole right at its start, is a P wave
    # cut by the window; too brief elsewhere, it is no P wave (a notch, an artefact) but leaves the T wave be
    brief = onset is None or offset is None or offset - onset < int(_MIN_P_S * fs)
    if brief and onset is not None and onset >= int(_MIN_P_S * fs) and not _opens_moving(window, fs, p_peak):
        problems["p"] = no_p
        return None, None
    if brief or _opens_moving(window, fs, p_peak):
        if regular:
            problems["p"] = problems["t_end"] = (
                "the P wave runs into the previous T wave (fast rate or long PR): the P onset and the end "
                "of the T wave cannot be separated")
        else:  # what is left of varying T and f waves, not a P wave
            problems["p"] = no_p
        return None, None
    return start + onset, start + offset


def _opens_moving(window: np.ndarray, fs: float, p_peak: int) -> bool:
    """Whether the P search window opens on a moving curve (the previous T wave still falling, or the P
    wave already rising) rather than on the quiet TP segment: its slope there, against the P wave's."""
    velocity = spatial_velocity(window, fs)
    opening = velocity[:max(2, int(_TP_QUIET_S * fs))].mean()
    return bool(opening > _TP_MERGED_FRACTION * velocity[:p_peak + 1].max())


def _p_peak(magnitude: np.ndarray, deviation: np.ndarray | None, lead_noise_mv: np.ndarray) -> int | None:
    """Index of the P peak in ``magnitude``: its most prominent bump or, when the P wave is only a shoulder
    there, of any single lead of ``deviation`` (either polarity; None: not looked for). None when no bump
    stands out of the noise."""
    threshold = max(_MIN_P_MV, _P_NOISE_FACTOR * float(np.sqrt(np.sum(lead_noise_mv ** 2))))
    peaks, properties = find_peaks(magnitude, prominence=threshold)
    if peaks.size or deviation is None:
        return int(peaks[np.argmax(properties["prominences"])]) if peaks.size else None
    best, best_ratio = None, 1.0
    for lead, noise in zip(deviation, lead_noise_mv):
        lead_threshold = max(_MIN_P_MV, _P_NOISE_FACTOR * float(noise))
        for polarity in (1.0, -1.0):
            peaks, properties = find_peaks(polarity * lead, prominence=lead_threshold)
            if peaks.size and properties["prominences"].max() / lead_threshold > best_ratio:
                best_ratio = properties["prominences"].max() / lead_threshold
                best = int(peaks[np.argmax(properties["prominences"])])
    return best
