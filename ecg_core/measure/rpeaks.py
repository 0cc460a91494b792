"""R-peak (QRS) detection in one lead, and the beats a whole recording agrees on.

The detector is NeuroKit2's (gradient-based, Makowski et al. 2021). It looks for upward peaks, so it runs
on the lead and on the inverted lead and the two sets are merged: on MIT-BIH 208 the upright pass alone
misses most of the beats once the lead is inverted, and in record 100 it misses the one (negative) PVC.
Detections are then moved to the lead's dominant QRS deflection so beats line up whatever the polarity.
Over all leads, what the detector takes for a beat but is a P or T wave or a baseline step is set aside.
Each lead alone is measured the same way (one lead is a recording too: a wearable's lead I, a Holter channel).
"""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np

from ..errors import InputError
from .filters import bandpass
from .template import spatial_velocity

_EDGE_PAD_S = 1.0  # mirrored signal added at both ends so beats near the edges are found too
_EDGE_MARGIN_S = 0.05  # half a QRS: beats peaking closer than this to either edge are not returned
_REFINE_HALF_WINDOW_S = 0.05  # detections move at most this far to the main deflection
_REFRACTORY_S = 0.2  # two beats closer than this are one beat
_MIN_DETECTOR_RR_S = 0.25  # NeuroKit's own minimum beat spacing (its default 0.3 s stops at 200 bpm): 240 bpm
_SHORT_RR_FRACTION = 0.75  # of the median RR: closer beats seen by only some leads are T waves
_MIN_SWING_FRACTION = 0.3  # of the typical QRS swing: smaller "beats" are T waves (e.g. at the record's start)
# (s, fraction): a "beat" this soon after or before a beat and less steep than this fraction of it, over all
# leads, is that beat's T or P wave: Pan & Tompkins' rule (1985), and wider windows for far flatter waves;
# within the refractory period the less steep of two is not a beat at all
_P_T_WAVE_RULES = ((_REFRACTORY_S, 1.0), (0.36, 0.5), (0.45, 0.25), (0.6, 0.15))
_STEEPEST_HALF_WINDOW_S = 0.06  # a beat's steepest slope is looked for this far either side of it
_STEP_SPAN_S = (0.1, 0.15)  # a "beat" is judged over this long before / after it ...
_STEP_BIN_S = 0.01  # ... in bins this long (their means) ...
_STEP_FRACTION = 0.55  # ... and is a baseline step when the leads' net change is this share of their travel,
_STEP_ON_WAVE_FRACTION = 0.2  # ... or this share, when once the step is taken out ...
_STEP_LEFT_FRACTION = 0.5  # ... what is left travels less than this fraction of what the median detection does
_STEP_LEVEL_S = 0.03  # a level either side of a step: the mean over this long


def detect_r_peaks(lead: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices of the R peaks (QRS complexes) in one lead, sorted, int64.

    ``lead`` is a 1-D array of finite values (any unit; mV expected), ``fs`` the sampling rate in Hz.
    Each index is the lead's dominant QRS deflection: the R peak in an upright lead, the S (or QS) nadir
    in a lead whose QRS is mostly negative (aVR, V1), so the spacing is exact whatever the polarity.
    Premature (ectopic) beats are detected like any other beat; a beat peaking within 50 ms of either
    end of the record (its QRS cut by the edge) is left out. A flat or beat-free lead gives an empty
    array; an input that is not a 1-D finite array raises `InputError` naming ``inputs.signal``.
    """
    lead = np.asarray(lead, dtype=np.float64)
    if lead.ndim != 1:
        raise InputError("inputs.signal", f"expected one lead (1-D array), got shape {lead.shape}")
    if not np.isfinite(lead).all():
        raise InputError("inputs.signal", "contains NaN or infinite values")
    if not np.isfinite(fs) or fs <= 0:
        raise InputError("inputs.fs", f"expected a positive sampling rate in Hz, got {fs!r}")
    if lead.size < int(fs) or np.ptp(lead) == 0:
        return np.zeros(0, dtype=np.int64)
    pad = min(int(_EDGE_PAD_S * fs), lead.size - 1)
    padded = np.pad(lead, pad, mode="reflect")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # NeuroKit warns on short or odd input; an empty result says enough
        cleaned = nk.ecg_clean(padded, sampling_rate=fs, method="neurokit")
        found = np.concatenate([
            nk.ecg_peaks(polarity * cleaned, sampling_rate=fs, method="neurokit",
                         mindelay=_MIN_DETECTOR_RR_S)[1]["ECG_R_Peaks"]
            for polarity in (1.0, -1.0)]).astype(np.int64)
    if found.size == 0:
        return found
    peaks = _to_dominant_deflection(cleaned, np.sort(found), fs) - pad
    # a QRS this close to the record's edge is cut by it: its peak may lie outside, and counting it
    # or not would change a short record's rate by a whole beat
    margin = int(_EDGE_MARGIN_S * fs)
    return peaks[(peaks >= margin) & (peaks < lead.size - margin)]


def _to_dominant_deflection(cleaned: np.ndarray, peaks: np.ndarray, fs: float) -> np.ndarray:
    """Move each detection to the extreme of the lead's dominant polarity nearby; merge duplicates.

    Both passes usually find the same beat a few samples apart; after moving they coincide, and any
    pair still closer than the refractory period is one beat: the steeper is kept. (The first was; in a deep QS
    complex, LUDB 24's V2, that was the upright pass's peak, which moved to the edge of its window short of
    the QS, where the lead is flat: seen from there the QS is a step, and the beat was taken for a baseline
    step.) A detection whose peak-to-peak swing is far below the typical beat's is a T wave or noise and is
    dropped.
    """
    half = max(1, int(_REFINE_HALF_WINDOW_S * fs))
    offsets = np.arange(-half, half + 1)
    windows = cleaned[np.clip(peaks[:, None] + offsets, 0, cleaned.size - 1)]
    baseline = np.median(windows, axis=1, keepdims=True)
    upward = np.median(windows.max(axis=1) - baseline[:, 0]) >= np.median(baseline[:, 0] - windows.min(axis=1))
    moved = peaks + offsets[np.argmax(windows if upward else -windows, axis=1)]
    swing = np.ptp(windows, axis=1)
    moved = np.unique(moved[swing >= _MIN_SWING_FRACTION * np.median(swing)])
    steepness = _steepest_near(np.abs(np.gradient(cleaned)), moved, half)
    keep: list[int] = []
    for index in range(moved.size):
        if not keep or moved[index] - moved[keep[-1]] > int(_REFRACTORY_S * fs):
            keep.append(index)
        elif steepness[index] > steepness[keep[-1]]:
            keep[-1] = index
    return moved[keep].astype(np.int64)


def _steepest_near(slope: np.ndarray, positions: np.ndarray, half: int) -> np.ndarray:
    """Per position: the largest value of ``slope`` within ``half`` samples either side of it."""
    return np.array([slope[max(0, position - half):position + half + 1].max() for position in positions])


def consensus_beats(signal: np.ndarray, fs: float, max_gap_s: float = 0.1) -> np.ndarray:
    """Beats (sample indices, sorted) found by `detect_r_peaks` in at least half of the leads; see `find_beats`."""
    return find_beats(signal, fs, max_gap_s)[0]


def find_beats(signal: np.ndarray, fs: float, max_gap_s: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(beats, signal): the beats (sample indices, sorted) found by `detect_r_peaks` in at least half of the
    leads, and the signal with any baseline steps taken out (the input itself when there were none).

    Detections from different leads within ``max_gap_s`` of each other are one beat, placed at their
    median. A beat without a strict majority (one of two leads) is dropped when it comes too soon
    after or before a beat with one: that is a tall T wave or noise in one lead, not a beat. So is a
    beat, however many leads saw it, that follows the previous one soon and is far less steep
    (`drop_p_and_t_waves`): tall T waves reach NeuroKit's threshold in about half of the leads, and
    a little noise decides whether they make a majority; so is one that comes soon before a far steeper beat
    (its P wave). Baseline steps are no beats either (`_baseline_steps`): they are taken out
    (`take_out_steps`) and the beats found again.
    """
    beats = _agreed_beats(signal, fs, max_gap_s)
    steps = beats[_baseline_steps(signal, fs, beats)]
    if steps.size:  # detected again without them: a step also hides the beat that follows it from the detector
        signal = take_out_steps(signal, fs, steps)
        beats = _agreed_beats(signal, fs, max_gap_s)
        beats = beats[~_baseline_steps(signal, fs, beats)]
    return drop_p_and_t_waves(signal, fs, beats), signal


def _agreed_beats(signal: np.ndarray, fs: float, max_gap_s: float) -> np.ndarray:
    """Detections of at least half of the leads, placed at their median, weak ones too close to a beat most leads
    see dropped (see `find_beats`)."""
    per_lead = [detect_r_peaks(lead, fs) for lead in signal]
    pooled = np.concatenate(per_lead) if per_lead else np.zeros(0, dtype=np.int64)
    if pooled.size == 0:
        return pooled
    leads = np.concatenate([np.full(found.size, index) for index, found in enumerate(per_lead)])
    order = np.argsort(pooled, kind="stable")
    pooled, leads = pooled[order], leads[order]
    group_starts = np.flatnonzero(np.concatenate(([True], np.diff(pooled) > max_gap_s * fs)))
    groups = _merge_split_beats(np.split(pooled, group_starts[1:]), np.split(leads, group_starts[1:]), fs)
    groups = [group for group in groups if 2 * len(group) >= len(per_lead)]
    beats = np.array([int(np.median(group)) for group in groups], dtype=np.int64)
    weak = np.array([2 * len(group) <= len(per_lead) for group in groups], dtype=bool)
    if beats.size >= 3 and weak.any():
        rr = np.diff(beats)
        too_close = np.zeros(beats.size, dtype=bool)
        short = rr < _SHORT_RR_FRACTION * np.median(rr)
        # next to a beat most leads see; two weak neighbours (two leads, one seeing the QRS and the other its T
        # wave) are left to the steepness rules of `drop_p_and_t_waves`
        too_close[:-1] |= short & ~weak[1:]
        too_close[1:] |= short & ~weak[:-1]
        beats = beats[~(weak & too_close)]
    return beats


def _merge_split_beats(groups: list[np.ndarray], leads: list[np.ndarray], fs: float) -> list[np.ndarray]:
    """Neighbouring groups of detections that no lead is in twice and whose medians lie within the refractory
    period, joined: one beat whose leads' detections spread out (a wide QRS, a baseline step on it) so far
    that they split into two groups, each seen by half of the leads or fewer."""
    merged, merged_leads = [], []
    for group, group_leads in zip(groups, leads):
        if (merged and np.median(group) - np.median(merged[-1]) <= _REFRACTORY_S * fs
                and not np.intersect1d(group_leads, merged_leads[-1]).size):
            merged[-1] = np.concatenate((merged[-1], group))
            merged_leads[-1] = np.concatenate((merged_leads[-1], group_leads))
        else:
            merged.append(group)
            merged_leads.append(group_leads)
    return merged


def _baseline_steps(signal: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """Which of ``beats`` are baseline steps (an electrode moving, a cart's baseline reset), which the
    detector's filters turn into a QRS-like transient in every lead at once.

    A QRS leaves each lead about where it found it, after travelling up and down; a step moves the leads
    from one level to another and stays. Over `_STEP_SPAN_S` around the detection (means of `_STEP_BIN_S`
    bins), the net change summed over the leads (first and last `_STEP_LEVEL_S`) against their summed
    travel (total variation): on LUDB's 1096 beats at most 0.46, for most 0.5 and 1 mV steps 0.55-0.97.
    A step that meets a P or T wave travels further (0.4-0.51). Taken out (`take_out_steps`), it leaves that
    wave alone, which travels 0.14-0.3 times as far as the record's median detection; a QRS netting 0.2 of
    its travel or more leaves at least 0.73 times (LUDB's one lower beat, at a record's edge, nets 0.11). A
    step on the T wave of a paced beat (LUDB 74) leaves about half, and may still be taken for a beat.
    """
    measured = [_net_and_travel(bins) for bins in (_step_bins(signal, fs, beat) for beat in beats)]
    travels = [travel for _, travel in measured if travel > 0]
    typical_travel = float(np.median(travels)) if travels else 0.0
    steps = np.zeros(beats.size, dtype=bool)
    for index, (net, travel) in enumerate(measured):
        if travel > 0:
            steps[index] = net >= _STEP_FRACTION * travel or (
                net >= _STEP_ON_WAVE_FRACTION * travel
                and _travel_left(signal, fs, beats[index]) < _STEP_LEFT_FRACTION * typical_travel)
    return steps


def _step_bins(signal: np.ndarray, fs: float, beat: int) -> np.ndarray | None:
    """The `_STEP_SPAN_S` around ``beat`` as `_STEP_BIN_S` bin means, (n_leads, n_bins); None past an edge."""
    width = max(1, int(_STEP_BIN_S * fs))
    before, after = (round(span / _STEP_BIN_S) for span in _STEP_SPAN_S)
    start, stop = beat - before * width, beat + after * width
    if start < 0 or stop > signal.shape[1]:
        return None
    return signal[:, start:stop].reshape(signal.shape[0], before + after, width).mean(axis=2)


def _net_and_travel(bins: np.ndarray | None) -> tuple[float, float]:
    """(net change, travel) summed over the leads of `_step_bins`: first to last `_STEP_LEVEL_S`, and the total
    variation; (0, 0) without bins."""
    if bins is None:
        return 0.0, 0.0
    level = max(1, round(_STEP_LEVEL_S / _STEP_BIN_S))
    net = np.abs(bins[:, -level:].mean(axis=1) - bins[:, :level].mean(axis=1)).sum()
    return float(net), float(np.abs(np.diff(bins, axis=1)).sum())


def _travel_left(signal: np.ndarray, fs: float, beat: int) -> float:
    """The travel (`_net_and_travel`) around ``beat`` once a step there is taken out (`take_out_steps`)."""
    reach = (max(_STEP_SPAN_S) + _REFINE_HALF_WINDOW_S + 2 * _STEP_LEVEL_S) * fs
    low, high = max(0, int(beat - reach)), min(signal.shape[1], int(beat + reach) + 1)
    corrected = take_out_steps(signal[:, low:high], fs, np.array([beat - low]))
    return _net_and_travel(_step_bins(corrected, fs, beat - low))[1]


def take_out_steps(signal: np.ndarray, fs: float, steps: np.ndarray) -> np.ndarray:
    """A copy of ``signal`` with the baseline step near each of ``steps`` subtracted: at the sharpest sample
    within `_REFINE_HALF_WINDOW_S` of it, each lead's level change (means over `_STEP_LEVEL_S` either side)
    is taken off everything after."""
    corrected = signal.copy()
    half, level = max(1, int(_REFINE_HALF_WINDOW_S * fs)), max(1, int(_STEP_LEVEL_S * fs))
    for step in steps:
        low, high = max(level + 1, step - half), min(signal.shape[1] - level - 1, step + half)
        if high <= low:
            continue
        jumps = np.abs(np.diff(corrected[:, low - 1:high + 1], axis=1)).sum(axis=0)
        edge = low + int(np.argmax(jumps))  # the first sample at the new level
        height = corrected[:, edge:edge + level].mean(axis=1) - corrected[:, edge - level:edge].mean(axis=1)
        corrected[:, edge:] -= height[:, None]
    return corrected


def _is_p_or_t_wave(interval_s: float, steepness: float, beat_steepness: float) -> bool:
    """Whether a detection of this steepness, ``interval_s`` from a beat of ``beat_steepness``, is that beat's
    P or T wave, or within the refractory period a lesser part of it (`_P_T_WAVE_RULES`)."""
    return any(interval_s < within_s and steepness < fraction * beat_steepness
               for within_s, fraction in _P_T_WAVE_RULES)


def drop_p_and_t_waves(signal: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """``beats`` without the P and T waves taken for beats: a "beat" within 0.36 s after the previous kept beat
    or before the next one whose steepest slope over all leads (band-passed spatial velocity) is under half
    of that beat's, within 0.45 s and under a quarter, or within 0.6 s and under 0.15 (`_P_T_WAVE_RULES`); and
    of two within the refractory 0.2 s, the less steep (two leads may each see one beat's deflections apart).

    A T wave rises and falls over 100-200 ms, a QRS in 40-120; on LUDB a T wave taken for a beat is 0.15
    times as steep as its QRS, while a premature beat (MIT-BIH 208's PVCs, 0.44-0.49 s after the beat
    before) is at least 0.32 times as steep. Within 0.36 s the ventricles have barely recovered from the
    beat before, and Pan and Tompkins' detector takes anything under half as steep there for a T wave: where
    the leads see the QRS small (one or two leads, the heart's axis across them) or it is wide, a tall T
    wave 0.19-0.26 s after it reaches 0.26-0.46 of its steepness (synthetic biphasic T waves of 0.35-0.6 mV).
    A lead alone also sees P waves as beats, 0.2-0.33 s before their QRS and 0.24-0.5 times as steep (LUDB
    120's III; lead II across the QRS axis), and T waves as late as 0.53 s and a tenth as steep (LUDB 124's
    aVF): the same rules hold before a beat, and a third, 0.6 s and 0.15, for far flatter waves (set on LUDB
    DEV's single leads, where no QRS is that much flatter than a detection within 0.6 s of it, and 89 P and T
    waves are; on TEST likewise none, and 43).
    """
    if beats.size < 2:
        return beats
    velocity = spatial_velocity(bandpass(signal, fs), fs)
    half = max(1, int(_STEEPEST_HALF_WINDOW_S * fs))
    steepest = _steepest_near(velocity, beats, half)
    kept = [0]
    for index in range(1, beats.size):
        if _is_p_or_t_wave((beats[index] - beats[kept[-1]]) / fs, steepest[index], steepest[kept[-1]]):
            continue  # the T wave of the beat before
        while kept and _is_p_or_t_wave((beats[index] - beats[kept[-1]]) / fs, steepest[kept[-1]], steepest[index]):
            kept.pop()  # the P wave of this beat
        kept.append(index)
    return beats[kept]
