"""QRS onset and offset, over all leads at once.

They are where the spatial velocity (slope over all leads, `template.spatial_velocity`) leaves and returns
to the isoelectric level, which makes them the earliest onset and latest offset over the leads; on the
median beat they move out to the slope's knees, and to any single large lead whose own QRS starts
earlier or ends later than the spatial velocity shows. A median beat noisy for its QRS's size has them found
below 40 Hz (`boundary_velocity`), and one of the limb leads alone its onset (`median_beat_qrs`).
"""

from __future__ import annotations

import numpy as np

from .filters import P_T_HIGH_HZ, lowpass
from .pacing import BRIDGE_S
from .template import spatial_velocity
from .trapezium import trapezium_boundary

_QRS_SEARCH_S = (0.15, 0.2)  # QRS boundaries are looked for this far before / after the fiducial point
_QRS_CORE_FRACTION = 0.3  # of the peak slope: clearly inside the QRS
_QRS_EDGE_FRACTION = 0.06  # of the peak slope above the isoelectric floor: the QRS boundary
_QRS_MAX_PAUSE_S = 0.012  # a shorter dip of the slope below that level is a peak inside the QRS
_QRS_KNEE_REACH_S = 0.03  # the knee of the slope is looked for this far beyond the edge crossing ...
_QRS_QUIET_FRACTION = 0.02  # ... and not beyond where the slope falls below this (chosen on LUDB DEV and
# the cart files together: LUDB's experts mark the onset ~12 ms before the carts do, see README)
_QRS_END_SLOPE_MV_S = 8.0  # spatial velocity: the QRS has ended once it stays below this (an ST segment sloping
# into the T wave keeps the slope at a few % of a small QRS's peak; chosen on LUDB DEV and the carts) ...
_QRS_END_FRACTION = 0.08  # ... or below this fraction of the QRS peak slope where that is less (a low-voltage
# QRS's terminal slope is small too), but never below the quiet level's own slope (the noise's). Chosen on LUDB
# DEV and the carts: from 0.07 up none of their clean values moves, 0.065 moves LUDB 24's and the HeartStart's
_LEAD_QRS_MIN_MV = 0.4  # a lead whose QRS spans this much ...
_LEAD_QRS_MIN_FRACTION = 0.2  # ... or this fraction of the largest lead's span, where that is less (a low-voltage
# ECG's leads are all small: a quartered RBBB's V1), may extend the global QRS ...
_LEAD_EDGE_FRACTION = 0.1  # ... while its own slope is above this fraction of its QRS peak slope ...
_LEAD_EDGE_MV_S = 5.0  # ... and above this: a slow terminal wave (RBBB's R' in V1) that sharper leads drown
_LOW_VOLTAGE_SPAN_MV = 0.9  # where the largest lead's QRS spans less, that slope shrinks in proportion (a
# low-voltage ECG's terminal waves are slow too); under every clean LUDB record's and cart file's (0.96 mV and up)
_LEAD_REACH_S = (0.04, 0.06)  # ... by at most this much before the onset / after the offset
_LEAD_RESUME_FRACTION = 0.5  # of its QRS peak slope: a lead this steep there is still in its QRS after a pause
# (RBBB's R' in V1 after its notch, ~1.0; a T wave rising soon after a wide QRS reaches ~0.3)
_NOISY_FLOOR_FRACTION = 0.025  # a median beat whose quiet level is this fraction of its QRS peak slope or more
# has its QRS boundaries found below `P_T_HIGH_HZ`. Above every clean LUDB record (0.023) and cart file (0.015);
# 0.02 kept a few more of LUDB DEV's quartered QRS under noise, but the low-pass widens the smooth QRS of the
# synthetic ECGs with 20 µV of noise (0.014-0.03) past their IEC bound (+10.6 ms; +9.5 at 0.025)
_FUSION_LOOKBACK_S = 0.008  # a lead already this far from its onset level this long before a pacing spike ...
_FUSION_MV = 0.05  # ... by this much: the QRS began before the pacemaker fired (a fusion beat)


def boundary_velocity(wave: np.ndarray, fs: float, fiducial: int) -> tuple[np.ndarray, bool]:
    """(The spatial velocity (mV/s) a median beat's QRS boundaries are found on, whether it is the low-passed
    one): that of ``wave`` (leads × samples at ``fs`` Hz, its QRS near sample ``fiducial``), or, where noise keeps
    its quiet level at `_NOISY_FLOOR_FRACTION` of the QRS peak slope or more, that of ``wave`` low-passed to
    `P_T_HIGH_HZ` (`_velocity_below_40_hz`).

    Broadband noise adds to the slope more the higher its frequency, and the QRS's own slopes near its
    boundaries are small: under noise they drown first and the QRS comes out short (LUDB quartered, under the
    electrodes' 12.5 µV: 8 ms on average, up to 28). Below 40 Hz most of that noise is gone and the QRS's slopes
    stay, widened by 2 ms on average (which is why a clean beat keeps its 100 Hz band).
    """
    velocity = spatial_velocity(wave, fs)
    floor, peak = _floor_and_peak(velocity, *_search_window(velocity.size, fs, fiducial))
    if floor < _NOISY_FLOOR_FRACTION * peak:
        return velocity, False
    return _velocity_below_40_hz(wave, fs), True


def _velocity_below_40_hz(wave: np.ndarray, fs: float) -> np.ndarray:
    return spatial_velocity(lowpass(wave, fs, P_T_HIGH_HZ), fs)


def median_beat_qrs(wave: np.ndarray, fs: float, fiducial: int, *,
                    limb_leads_only: bool = False) -> tuple[int, int] | None:
    """(QRS onset, QRS offset) sample indices of a median beat (leads × samples at ``fs`` Hz, its QRS near sample
    ``fiducial``) before the single leads widen them (`widen_to_leads`): `qrs_bounds` out to the knees, on
    `boundary_velocity`. None when there is no clear QRS.

    ``limb_leads_only`` (the limb leads alone, as a six-lead device records them): the onset is found below
    `P_T_HIGH_HZ`. Without the chest leads the QRS's peak slope is about a quarter of the 12 leads' (LUDB 12: 72
    against 299 mV/s), so the onset's levels, fractions of that peak, fall among the fast wiggles of the PR
    segment, and the onset ran into the P wave (LUDB 12's limb leads: QRS 150 ms against the experts' 104 there,
    PR 100 ms against 133). The offset keeps the full band: below 40 Hz the pause at a terminal notch lengthens
    into a quiet stretch and the last wave is cut off (LUDB 10's limb leads: 136 → 94 ms, the experts' 139).
    """
    velocity, low_passed = boundary_velocity(wave, fs, fiducial)
    bounds = qrs_bounds(velocity, fs, fiducial, to_knees=True)
    if bounds is None or not limb_leads_only or low_passed:  # a noisy beat's onset is below 40 Hz already
        return bounds
    slow = qrs_bounds(_velocity_below_40_hz(wave, fs), fs, fiducial, to_knees=True)
    # on a beat too strange for the two to find one QRS, the full band's stands
    return bounds if slow is None or slow[0] >= bounds[1] else (slow[0], bounds[1])


def qrs_bounds(velocity: np.ndarray, fs: float, fiducial: int, *, to_knees: bool = False) -> tuple[int, int] | None:
    """(QRS onset, QRS offset) sample indices in ``velocity``, the spatial velocity (mV/s, see
    `spatial_velocity`) of one beat sampled at ``fs`` Hz, whose QRS is near sample ``fiducial``.

    The same rule for the median beat (`delineate.delineate`) and for single beats (`beats.qrs_durations_ms`):
    the QRS is the stretch around the peak slope that stays clearly above the beat's quiet level (its 10th
    percentile); its boundaries are where the slope comes back near that level for longer than a peak's
    pause. That crossing is where most leads are busy; ``to_knees`` (the median beat, whose noise is averaged out)
    moves each boundary out to where the first lead starts / the last one ends: the knee of the slope
    (trapezium method) within `_QRS_KNEE_REACH_S`, not past where the slope is back at the quiet level,
    and ends the QRS where the slope stays below `_QRS_END_SLOPE_MV_S` (an ST segment sloping into the
    T wave is not QRS however small the QRS), or below `_QRS_END_FRACTION` of the QRS peak slope where that is
    less and still above the quiet level (a quartered QRS would otherwise end 12 ms early).
    None when the slope near the fiducial does not rise above 3 times the quiet level (no clear QRS).
    """
    start, stop = _search_window(velocity.size, fs, fiducial)
    floor, peak = _floor_and_peak(velocity, start, stop)
    if peak <= 3 * floor:
        return None
    edge = floor + _QRS_EDGE_FRACTION * (peak - floor)
    gap = max(2, int(_QRS_MAX_PAUSE_S * fs))
    # the QRS is the busy stretch around the peak slope: a steep T wave after the ST segment (or P wave before
    # the PR segment), where the slope pauses, is no part of it
    apex = start + int(np.argmax(velocity[start:stop]))
    onset, offset = _last_above(velocity, apex, start, edge, gap), _last_above(velocity, apex, stop - 1, edge, gap)
    if not to_knees:
        return onset, offset
    steep = np.flatnonzero(velocity[onset:offset + 1] >= floor + _QRS_CORE_FRACTION * (peak - floor))
    last_steep = onset + int(steep[-1])  # the apex is one
    reach = int(_QRS_KNEE_REACH_S * fs)
    quiet = floor + _QRS_QUIET_FRACTION * (peak - floor)
    knee_on = trapezium_boundary(velocity, onset, max(0, onset - reach))
    knee_off = trapezium_boundary(velocity, offset, min(velocity.size - 1, offset + reach))
    if knee_on is not None:
        onset = _last_above(velocity, onset, knee_on, quiet, 1)
    if knee_off is not None:
        offset = _last_above(velocity, offset, knee_off, quiet, 1)
    end_slope = floor + min(_QRS_END_SLOPE_MV_S, max(_QRS_END_FRACTION * (peak - floor), floor))
    return onset, min(offset, _last_above(velocity, last_steep, stop - 1, end_slope, gap))


def widen_to_leads(wave: np.ndarray, fs: float, onset: int, offset: int) -> tuple[int, int]:
    """(onset, offset) moved out to the earliest start / latest end of the QRS in any single large lead.

    The spatial velocity is dominated by the leads with the sharpest QRS; a slow wave in another lead
    (the terminal R' of right bundle branch block in V1, a slurred start) barely shows in it. A lead
    whose QRS spans `_LEAD_QRS_MIN_MV` or more is busy while its own slope stays above both
    `_LEAD_EDGE_FRACTION` of its QRS peak slope and `_LEAD_EDGE_MV_S` (no longer than a peak's pause below),
    and from wherever within that reach its slope climbs back to `_LEAD_RESUME_FRACTION` of that peak: a
    terminal wave after a notch longer than the pause (a little noise decides which it is) still belongs, if it
    is over within the reach.
    """
    low = max(0, onset - int(_LEAD_REACH_S[0] * fs))
    high = min(wave.shape[1] - 1, offset + int(_LEAD_REACH_S[1] * fs))
    gap = max(2, int(_QRS_MAX_PAUSE_S * fs))
    new_onset, new_offset = onset, offset
    spans_mv = np.ptp(wave[:, onset:offset + 1], axis=1)
    largest_mv = float(spans_mv.max())
    min_span_mv = min(_LEAD_QRS_MIN_MV, _LEAD_QRS_MIN_FRACTION * largest_mv)
    min_edge_mv_s = _LEAD_EDGE_MV_S * min(1.0, largest_mv / _LOW_VOLTAGE_SPAN_MV)
    for lead, span_mv in zip(wave, spans_mv):
        if span_mv < min_span_mv:
            continue
        slope = np.abs(np.gradient(lead)) * fs
        floor = np.percentile(slope, 10)
        peak = slope[onset:offset + 1].max()
        busy = np.flatnonzero(slope[onset:offset + 1] >= floor + _QRS_CORE_FRACTION * (peak - floor)) + onset
        if busy.size == 0:  # the lead's QRS is no steeper than its quietest stretch: nothing to add
            continue
        resumed = np.flatnonzero(slope[low:high + 1] >= floor + _LEAD_RESUME_FRACTION * (peak - floor)) + low
        edge = floor + max(_LEAD_EDGE_FRACTION * (peak - floor), min_edge_mv_s)
        last = busy[-1]
        # a wave resumed after a pause is the QRS's only when it is over within reach: one still rising at the
        # reach's end is the T wave after a wide QRS, which lasts longer
        if resumed[-1] > last and _last_above(slope, resumed[-1], high, edge, gap) < high:
            last = resumed[-1]
        new_onset = min(new_onset, _last_above(slope, min(busy[0], resumed[0]), low, edge, gap))
        new_offset = max(new_offset, _last_above(slope, last, high, edge, gap))
    return new_onset, new_offset


def start_after_spike(wave: np.ndarray, fs: float, onset: int, spike: int) -> int:
    """The QRS onset of a ventricular-paced median beat (leads × samples at ``fs`` Hz, its pacing spike at
    sample ``spike``): no earlier than where the bridged spike ends.

    The pacemaker starts the QRS, so nothing before its spike belongs to it; what the boundary rule finds
    there is the spike's remains (a real spike decays over 10-20 ms through a cart's input stage, and
    bridging leaves that tail, which the slope rule then reaches back from). Unless the QRS was already
    under way: a lead `_FUSION_MV` off its level at ``onset`` `_FUSION_LOOKBACK_S` before the spike is a
    fusion beat, begun by the heart's own conduction, and keeps its onset.
    """
    spike_end = spike + int(round(BRIDGE_S * fs))
    if onset >= spike_end or not 0 <= spike < wave.shape[1]:
        return onset
    look = spike - int(round(_FUSION_LOOKBACK_S * fs))
    if onset <= look and np.max(np.abs(wave[:, look] - wave[:, onset])) >= _FUSION_MV:
        return onset
    return min(spike_end, wave.shape[1] - 1)


def _search_window(n_samples: int, fs: float, fiducial: int) -> tuple[int, int]:
    return max(0, fiducial - int(_QRS_SEARCH_S[0] * fs)), min(n_samples, fiducial + int(_QRS_SEARCH_S[1] * fs))


def _floor_and_peak(velocity: np.ndarray, start: int, stop: int) -> tuple[float, float]:
    """(quiet level, QRS peak slope): the beat's 10th percentile and the largest slope in [start, stop), the QRS's
    search window (`_search_window`)."""
    return float(np.percentile(velocity, 10)), float(velocity[start:stop].max())


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
