"""Global wave boundaries on the median beat, over all leads at once.

The QRS first (`qrs.qrs_bounds`, `qrs.widen_to_leads`), then the T peak, the P wave and the T end,
found on the spatial magnitude (distance from the isoelectric level over all leads) with the
trapezium-area method (`trapezium.trapezium_boundary`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from .filters import P_T_HIGH_HZ, T_END_HIGH_HZ, lowpass
from .qrs import median_beat_qrs, start_after_spike, widen_to_leads
from .template import MedianBeat
from .trapezium import trapezium_boundary

_LONGEST_PR_S = 0.4  # the longest PR interval measured
_MAX_PR_S = 0.45  # P onset is looked for at most this long before QRS onset (the longest PR, and a lead-in)
_MIN_P_MV = 0.04  # a P wave smaller than this (spatial magnitude) is not called ...
_MIN_P_QRS_FRACTION = 0.025  # ... or than this share of the QRS's, where that is less (a low-voltage ECG) ...
_LOWEST_P_MV = 0.02  # ... but never one smaller than this
_P_NOISE_FACTOR = 6.0  # ... nor one less than this many times the noise in the median beat
_P_BEAT_CONSISTENCY = 2.0  # ... nor one whose RMS is less than this many standard errors of the single beats'
# centre there: f waves, unrelated to the QRS, reach about one by chance (checked on both LUDB splits' 2.5 s windows)
_T_GAP_S = 0.04  # the T wave is looked for this long after QRS offset
_NEXT_P_PEAK_S = 0.2  # the next beat's P wave may peak from this long before its QRS
_T_RISE_FRACTION = 0.1  # of the T wave's fall: a rise this large after it is another wave ...
_T_RISE_MIN_MV = 0.02  # ... if it is also this large, or this many times the noise left in the median beat
_T_RISE_NOISE_FACTOR = 3.0  # (RMS over the leads) where that is less: a low-voltage ECG's waves are small too
_T_SECOND_LOBE_FRACTION = 0.5  # ... the T wave's own second lobe (a biphasic T) when it rises this much of the fall
_T_SECOND_LOBE_MAX_COSINE = -0.3  # ... and points back: the two lobes' lead vectors at least ~107° apart
_T_NOTCH_DIP_FRACTION = 0.2  # a rise after the T peak, the curve having dipped less than this of the peak, is
# the same T wave, notched (LUDB DEV 28's limb leads, whose T loop swings round, dip 15-17 %; LUDB's U waves 25 %
# or more, over its records' 12 leads, limb leads and each lead left out) ...
_T_NOTCH_S = 0.16  # ... when it peaks within this long of the T peak (those humps 44-156 ms; after a monitor's
# 0.5 Hz high-pass, LUDB 138's hump at right angles to its T wave, 220 ms on, dips only 10 %)
_T_FIRST_PEAK_FRACTION = 0.8  # of the tallest hump after the QRS: an earlier one this tall is the T wave's peak
_T_TAIL_S = 0.25  # reference point of the trapezium: this long after the T peak's steepest descent
_T_NOISY_FRACTION = 0.03  # of the T wave's fall: noise left in the median beat above this is smoothed for the T end
_HIDDEN_P_S = 0.25  # a T wave ending closer than this to the next QRS may hide that beat's P wave (PR ≤ 250 ms)
_TP_MERGED_FRACTION = 0.5  # of the P wave's upslope: a steeper opening of the P window is no quiet TP segment
_TP_QUIET_S = 0.016  # ... over this long
_MIN_P_S = 0.05  # a shorter P wave is only part of one
_TP_GAP_S = 0.02  # the P wave is looked for from this long after the previous T wave's end
_P_OFF_PR_FRACTION = 0.5  # of its height above the window's line: a P peak stands this far off the PR level
_P_REACH_S = 0.1  # P boundaries: the trapezium's reference this far from the P peak (LUDB DEV)


@dataclass(frozen=True)
class Boundaries:
    """Sample indices in the median beat (None: not found)."""

    qrs_on: int | None = None
    qrs_off: int | None = None
    p_on: int | None = None
    p_off: int | None = None
    t_end: int | None = None
    baseline_mv: np.ndarray | None = None  # per lead: the isoelectric (PR segment) level
    pr_segment_end: int | None = None  # the QRS onset, or where the spike starts that paces the QRS
    problems: dict[str, str] | None = None  # boundary name → why it is missing


def delineate(beat: MedianBeat, rr_s: float, regular: bool = True, pacing_spike: int | None = None, *,
              limb_leads_only: bool = False) -> Boundaries:
    """QRS, then the T peak, P wave and T end, on a median beat whose waves fit in ``rr_s`` s (the mean RR
    interval; a short one for an irregular rhythm).

    ``regular``: whether the beats' RR intervals are regular; only then does the previous beat's T
    wave sit at one place in the median beat, where a P wave riding on it can be recognised.
    ``pacing_spike``: the sample of the beats' ventricular pacing spike, which the QRS starts after
    (`qrs.start_after_spike`). ``limb_leads_only``: the beat has no chest lead (`qrs.median_beat_qrs`).
    """
    fs, wave = beat.fs, beat.waveform
    qrs = median_beat_qrs(wave, fs, beat.fiducial, limb_leads_only=limb_leads_only)
    if qrs is None:
        return Boundaries(problems={"qrs": "no clear QRS complex in the median beat"})
    smooth = lowpass(wave, fs, P_T_HIGH_HZ)  # slow waves: the QRS band's noise is not needed
    qrs_on, qrs_off = widen_to_leads(smooth, fs, *qrs)
    pr_end = qrs_on  # where the slope rule starts the QRS: a pacing spike's remains, in a paced beat
    if pacing_spike is not None:
        qrs_on = start_after_spike(wave, fs, qrs_on, pacing_spike)
    baseline = wave[:, max(0, pr_end - int(0.02 * fs)):pr_end + 1].mean(axis=1, keepdims=True)  # PR segment
    deviation = smooth - baseline  # the filter is linear and passes a constant level unchanged
    magnitude = np.sqrt(np.sum(deviation ** 2, axis=0))
    problems: dict[str, str] = {}
    rr = int(round(rr_s * fs))
    t_wave = _t_peak(magnitude, fs, qrs_on, qrs_off, rr_s, regular)
    t_curves = _TCurves(magnitude, np.sqrt(np.sum(lowpass(deviation, fs, T_END_HIGH_HZ) ** 2, axis=0)),
                        float(np.sqrt(np.sum(beat.median_noise_mv ** 2))),
                        float(np.sqrt(np.mean(beat.median_noise_mv ** 2))))
    t_end = (_t_end(t_curves, fs, t_wave.peak, t_wave.stop, deviation=deviation, lobe_stop=t_wave.peak_stop)
             if t_wave is not None else None)
    # the previous beat's T wave ends one RR before this one's (only a regular rhythm puts it at one place)
    previous_t_end = t_end - rr if t_end is not None and regular else None
    min_p_mv = float(np.clip(_MIN_P_QRS_FRACTION * magnitude[qrs_on:qrs_off + 1].max(), _LOWEST_P_MV, _MIN_P_MV))
    p_on, p_off = _p_wave(deviation, beat, pr_end, previous_t_end, rr_s, regular, min_p_mv, problems)
    if t_end is not None and t_end >= t_wave.stop - 2:
        # where the search gave up is no end to measure, though the T wave lasts at least that long (which
        # bounds the P search above): a median beat of one beat, from 2.5 s of LUDB 64, put it there (QT 700 ms
        # for 412)
        t_end = None
    if "t_end" in problems:  # the P wave runs into this T wave's end (seen one RR later)
        t_end = None
    elif t_wave is None:
        problems["t_end"] = "no T wave found after the QRS complex"
    elif p_on is not None and t_end is not None and t_end >= p_on + rr:  # it ran into the next P wave
        t_end = _t_end(t_curves, fs, t_wave.peak, p_on + rr - 1, deviation=deviation, lobe_stop=t_wave.peak_stop)
    if t_wave is not None and t_end is None and "t_end" not in problems:
        problems["t_end"] = "no T wave end found before the next beat"
    elif t_end is not None and p_on is None and regular and t_end > qrs_on + int((rr_s - _HIDDEN_P_S) * fs):
        # the next P wave may start inside this T wave, and its end may be the P wave's (an irregular
        # rhythm without P waves, as atrial fibrillation, has none to hide)
        t_end = None
        problems["t_end"] = ("the T wave ends too close to the next QRS complex and no separate P wave is "
                             "seen: a P wave may be hidden in its end, so the end is not measured")
    return Boundaries(qrs_on, qrs_off, p_on, p_off, t_end, baseline[:, 0], pr_end, problems)


class _TWave(NamedTuple):
    peak: int  # sample of the T peak in the median beat
    stop: int  # end of the T search
    peak_stop: int  # the T wave does not peak after this (where the next P wave may)


def _t_peak(magnitude: np.ndarray, fs: float, qrs_on: int, qrs_off: int, rr_s: float,
            regular: bool) -> _TWave | None:
    """The T peak and where to search, in the median beat; None when there is no room for a T wave."""
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
        peak_stop = stop
    # the T wave comes first: a wave after it as tall (a U wave, noise on a second hump) is not its peak
    earlier, _ = find_peaks(magnitude[start:t_peak], prominence=_T_RISE_FRACTION * magnitude[t_peak])
    earlier = earlier[magnitude[start + earlier] >= _T_FIRST_PEAK_FRACTION * magnitude[t_peak]]
    if earlier.size:
        t_peak = start + int(earlier[0])
    return None if t_peak >= stop - 2 else _TWave(t_peak, stop, peak_stop)


class _TCurves(NamedTuple):
    magnitude: np.ndarray  # spatial magnitude of the median beat, low-passed to P_T_HIGH_HZ
    smooth: np.ndarray  # ... and to T_END_HIGH_HZ
    noise_mv: float  # noise left in the median beat, over all leads
    lead_noise_mv: float  # ... and in one lead (RMS over the leads): what the magnitude moves by


def _t_end(curves: _TCurves, fs: float, t_peak: int, stop: int, *, deviation: np.ndarray | None = None,
           lobe_stop: int | None = None) -> int | None:
    """End of the T wave (trapezium method) between its peak and ``stop``, which is first pulled back to
    where the curve rises again after falling (the next P wave, or a U wave): the TP level need not be
    the PR level the curve is measured from, so the lowest point may lie beyond the next P wave.

    With ``deviation`` (the per-lead curves the magnitude was taken of) and ``lobe_stop`` (the sample the T
    wave does not peak after), a rise before ``lobe_stop`` that climbs back `_T_SECOND_LOBE_FRACTION` of
    the fall, pointing the other way over the leads (a U wave points the T wave's way), is the second lobe
    of a biphasic T wave: the end is then that lobe's. A rise at right angles to the T wave (cosine near 0,
    whose sign noise or wander flips) is no second lobe: `_T_SECOND_LOBE_MAX_COSINE`. Nor is a rise
    another wave, pointing any way, when the curve has barely dipped before it and peaks soon after the T
    wave (`_T_NOTCH_DIP_FRACTION`, `_T_NOTCH_S`): the T wave is notched (a bifid T), or its loop swings
    round so that the magnitude never falls between the lobes; the end is again the later hump's.

    Where the noise left in the median beat exceeds `_T_NOISY_FRACTION` of the T wave's fall, the trapezium
    is drawn on the smoother curve: on the other one the noise's dips far out in the TP segment outweigh
    the distance to them, and a flat T wave ended 50-80 ms late under 40-50 µV of noise. A quiet beat
    keeps the sharper curve, on which an abrupt end is not rounded off later (the noise is the single
    beats' spread around the median, so 42 of LUDB's 100 clean records take the smoother one).
    """
    magnitude = curves.magnitude
    if stop - t_peak <= 2:
        return None
    after = magnitude[t_peak:stop + 1]
    trough = np.minimum.accumulate(after)
    # a quiet beat's floor scales with its noise, which scales with the signal: the fixed floor stopped the
    # search at LUDB 180's U wave at full amplitude and not at half, and the QT ran on to the next P (368 → 582 ms)
    floor = min(_T_RISE_MIN_MV, _T_RISE_NOISE_FACTOR * curves.lead_noise_mv)
    rising = after - trough > max(floor, _T_RISE_FRACTION * (after[0] - after.min()))
    if rising.any():
        rise = int(np.argmax(rising))
        if deviation is not None and lobe_stop is not None:
            lobe = _second_lobe(deviation, after, t_peak, rise, min(stop, lobe_stop) - t_peak, fs)
            if lobe is not None:
                return _t_end(curves, fs, t_peak + lobe, stop)
        stop = t_peak + max(2, rise)
    falls = np.diff(magnitude[t_peak:stop])
    steepest = t_peak + int(np.argmin(falls))
    reference = min(stop, steepest + int(_T_TAIL_S * fs))
    noisy = curves.noise_mv > _T_NOISY_FRACTION * float(magnitude[t_peak] - magnitude[t_peak:stop + 1].min())
    return trapezium_boundary(curves.smooth if noisy else magnitude, t_peak, reference)


def _second_lobe(deviation: np.ndarray, after: np.ndarray, t_peak: int, rise: int, lobe_end: int,
                 fs: float) -> int | None:
    """Index in ``after`` (the magnitude from the T peak on) of the T wave's second lobe (a biphasic or
    notched T), which starts rising at ``rise`` and peaks before ``lobe_end``; None when what rises is
    another wave."""
    if lobe_end <= rise + 2:
        return None
    lobe = rise + int(np.argmax(after[rise:lobe_end]))
    trough = after[:rise + 1].min()
    first, second = deviation[:, t_peak], deviation[:, t_peak + lobe]
    opposed = float(first @ second) < _T_SECOND_LOBE_MAX_COSINE * float(np.linalg.norm(first) * np.linalg.norm(second))
    tall = after[lobe] - trough >= _T_SECOND_LOBE_FRACTION * (after[0] - trough)
    notched = trough >= (1 - _T_NOTCH_DIP_FRACTION) * after[0] and lobe <= _T_NOTCH_S * fs
    return lobe if lobe < lobe_end - 2 and (tall and opposed or notched) else None


def _p_wave(deviation: np.ndarray, beat: MedianBeat, pr_end: int, previous_t_end: int | None, rr_s: float,
            regular: bool, min_p_mv: float, problems: dict[str, str]) -> tuple[int | None, int | None]:
    """(P onset, P offset), both None when no P wave (of ``min_p_mv`` or more, `_p_peak`) is measured.

    The P wave is looked for (`_p_in_window`) from `_TP_GAP_S` after the end of the previous beat's T wave, or
    `_MAX_PR_S` before the QRS, up to the end of the PR segment ``pr_end`` (the QRS onset, or a ventricular
    pacing spike). A window that cuts a P wave is tried once more from the T end itself: at a fast rate the P
    wave may start within `_TP_GAP_S` of it; a P wave that overlaps the T wave is cut there too.

    Where the window opens after the previous T wave has ended and further before the QRS than the longest PR,
    it opens on the TP segment, and its opening slope is not judged: noise gives it one (judged there too,
    50 µV RMS of noise left PR within 20 ms of the clean value on 69 of LUDB's 84 records instead of 78).
    """
    fs = beat.fs
    start = retry_start = max(0, pr_end - int(min(_MAX_PR_S, 0.9 * rr_s) * fs))
    on_tp = False
    if previous_t_end is not None:
        after_gap = previous_t_end + int(_TP_GAP_S * fs)
        on_tp = start > after_gap and pr_end - start > int(_LONGEST_PR_S * fs)
        start, retry_start = max(start, after_gap), max(start, previous_t_end)
    stop = pr_end - int(0.01 * fs)
    if stop - start < int(0.06 * fs):
        problems["p"] = "no room for a P wave between the previous T wave and the QRS complex"
        return None, None
    found = _p_in_window(deviation[:, start:stop + 1], beat, regular, min_p_mv, check_opening=not on_tp)
    if found.problem == _P_CUT and retry_start < start:
        retried = _p_in_window(deviation[:, retry_start:stop + 1], beat, regular, min_p_mv, check_opening=True)
        if retried.problem is None:
            found, start = retried, retry_start
    if found.problem is None:
        p_on, p_off = start + found.onset, start + found.offset
        if _p_shared_by_the_beats(beat, p_on, p_off):
            return p_on, p_off
        problems["p"] = ("no P wave that the beats share: what stands out before the QRS in the median beat "
                         "differs from beat to beat (as atrial fibrillation's f waves do)")
        return None, None
    if found.problem == _P_CUT:
        problems["p"] = problems["t_end"] = (
            "the P wave runs into the previous T wave (fast rate or long PR): the P onset and the end "
            "of the T wave cannot be separated")
    else:
        problems["p"] = ("no consistent P wave before the QRS complexes (as in atrial fibrillation or "
                         "flutter, junctional rhythm, a P wave hidden in the T wave at a fast rate, or a "
                         "noisy baseline)")
    return None, None


def _p_shared_by_the_beats(beat: MedianBeat, p_on: int, p_off: int) -> bool:
    """Whether the single beats share the median beat's P wave at [``p_on``, ``p_off``]: its RMS over the leads
    and its span (each beat's straight line between the two ends taken off, in the P wave's band) is at least
    `_P_BEAT_CONSISTENCY` standard errors of the beats' centre (their median) there. Every beat whose P wave
    lies in the recording counts, whole or not; with one there is nothing to compare.

    Over a few beats an irregular rhythm cannot be told from a regular one, and the P window of atrial
    fibrillation holds f waves, which differ from beat to beat: the largest bump their median shows is about
    one standard error tall. A real P wave, alike in every beat, stands several out.
    """
    if beat.single_beats_mv is None:
        return True
    waves = beat.single_beats_mv[:, :, p_on:p_off + 1]
    waves = waves[np.isfinite(waves).all(axis=(1, 2))]  # a beat at the recording's edge may still hold its P wave
    n_beats = len(waves)
    if n_beats < 2:
        return True
    waves = waves - (waves[:, :, :1] + (waves[:, :, -1:] - waves[:, :, :1]) * np.linspace(0.0, 1.0, waves.shape[2]))
    centre = np.median(waves, axis=0)
    # each beat's distance from the others' centre, the median of them: a burst of noise on a few beats (a
    # shivering patient) does not make a real P wave's beats look unrelated; √(n / (n - 1)): the centre is
    # taken over the beats themselves
    spread_mv = np.median(np.sqrt(np.mean((waves - centre) ** 2, axis=(1, 2)))) * np.sqrt(n_beats / (n_beats - 1))
    return bool(np.sqrt(np.mean(centre ** 2)) >= _P_BEAT_CONSISTENCY * spread_mv / np.sqrt(n_beats))


_P_NONE, _P_CUT = "no P wave", "a P wave cut by the window's start"


class _PInWindow(NamedTuple):
    onset: int | None  # indices in the window
    offset: int | None
    problem: str | None  # None (found), `_P_NONE` or `_P_CUT`


def _p_in_window(window: np.ndarray, beat: MedianBeat, regular: bool, min_p_mv: float,
                 check_opening: bool) -> _PInWindow:
    """The P wave in ``window`` (per-lead deviation from the PR level, from the P search's start to its stop),
    on each lead's distance from a straight line through the window's two ends: the TP and PR levels differ
    (atrial repolarisation, wander), and the line leaves the P wave alone on a flat floor.

    The P wave is cut by the window (`_P_CUT`) when the window opens on a moving curve (`_opens_moving`, with
    ``check_opening``), when the P wave is too brief to be whole right at the window's start, or when what the
    line leaves is the line's own: a window opening on the P wave puts the line's start high on it, and a bump
    appears below the line where the curve lies at the PR level (a P peak stands off the PR level at least
    `_P_OFF_PR_FRACTION` of its height above the line: 0.97 or more on every LUDB record, clean, under 50 µV
    RMS of noise, 1 mV of wander or a 0.5 mV step; the bumps on synthetic P waves overlapping the T wave's
    end, 0.12 or less). Too brief elsewhere, it is no P wave (a notch, an artefact) but leaves the T wave
    be. An irregular rhythm has no one place for the previous T wave, so there a cut P wave is none either
    (what is left of varying T and f waves). Where the window opens on the TP segment (its opening not judged,
    without ``check_opening``) nothing is under way at its start, and a P wave starting there is none: one
    lead's fallback finds such a bump where the spatial magnitude shows no P wave above the noise (LUDB 158's
    first 5 s: PR 446 ms for 180; flutter, and a paced beat, got PRs of 416-448 ms).
    """
    fs = beat.fs
    edge = max(1, int(0.004 * fs))
    first, last = window[:, :edge].mean(axis=1), window[:, -edge:].mean(axis=1)
    detrended = window - (first[:, None] + np.outer(last - first, np.linspace(0.0, 1.0, window.shape[1])))
    magnitude = np.sqrt(np.sum(detrended ** 2, axis=0))
    p_peak = _p_peak(magnitude, detrended if regular else None, beat.median_noise_mv, min_p_mv)
    if p_peak is None:
        return _PInWindow(None, None, _P_NONE)
    reach = int(_P_REACH_S * fs)
    onset = trapezium_boundary(magnitude, p_peak, max(0, p_peak - reach))
    offset = trapezium_boundary(magnitude, p_peak, min(magnitude.size - 1, p_peak + reach))
    if not check_opening and onset is not None and onset <= edge:
        return _PInWindow(None, None, _P_NONE)
    brief = onset is None or offset is None or offset - onset < int(_MIN_P_S * fs)
    line_made = float(np.linalg.norm(window[:, p_peak] - last)) < _P_OFF_PR_FRACTION * magnitude[p_peak]
    cut = line_made or (check_opening and _opens_moving(window, fs, p_peak))
    if brief and onset is not None and onset >= int(_MIN_P_S * fs) and not cut:
        return _PInWindow(None, None, _P_NONE)
    if brief or cut:
        return _PInWindow(None, None, _P_CUT if regular else _P_NONE)
    return _PInWindow(onset, offset, None)


def _opens_moving(window: np.ndarray, fs: float, p_peak: int) -> bool:
    """Whether the P search window opens on a moving curve (the previous T wave still falling, or the P
    wave already rising) rather than on the quiet TP segment: its slope there against the P wave's, both
    fitted over `_TP_QUIET_S` (least squares) and taken above the window's quietest level, so that noise,
    which gives a flat line a slope of its own, counts for neither."""
    span = max(3, int(_TP_QUIET_S * fs) | 1)
    if window.shape[1] < span:
        return False
    slope = savgol_filter(window, span, 1, deriv=1, delta=1.0 / fs, axis=1)
    velocity = np.sqrt(np.sum(slope ** 2, axis=0))
    floor = np.percentile(velocity, 10)
    rise = velocity[span // 2:max(p_peak, span // 2) + 1].max() - floor
    return bool(velocity[span // 2] - floor > _TP_MERGED_FRACTION * rise)


def _p_peak(magnitude: np.ndarray, deviation: np.ndarray | None, lead_noise_mv: np.ndarray,
            min_p_mv: float) -> int | None:
    """Index of the P peak in ``magnitude``: its most prominent bump or, when the P wave is only a shoulder
    there, of any single lead of ``deviation`` (either polarity; None: not looked for). None when no bump
    both stands out of the noise and reaches ``min_p_mv``: `_MIN_P_MV`, or less where the QRS is small, as a
    low-voltage ECG's P waves are (at half LUDB's amplitudes the fixed 40 µV lost the P wave of 5 of 84
    records; LUDB's QRS peaks of 1.4-5.6 mV leave that floor to all but its smallest)."""
    threshold = max(min_p_mv, _P_NOISE_FACTOR * float(np.sqrt(np.sum(lead_noise_mv ** 2))))
    peaks, properties = find_peaks(magnitude, prominence=threshold)
    if peaks.size or deviation is None:
        return int(peaks[np.argmax(properties["prominences"])]) if peaks.size else None
    best, best_ratio = None, 1.0
    for lead, noise in zip(deviation, lead_noise_mv):
        lead_threshold = max(min_p_mv, _P_NOISE_FACTOR * float(noise))
        for polarity in (1.0, -1.0):
            peaks, properties = find_peaks(polarity * lead, prominence=lead_threshold)
            if peaks.size and properties["prominences"].max() / lead_threshold > best_ratio:
                best_ratio = properties["prominences"].max() / lead_threshold
                best = int(peaks[np.argmax(properties["prominences"])])
    return best
