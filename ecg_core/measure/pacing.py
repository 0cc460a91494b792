"""Pacemaker spikes: found, attributed to the chamber they pace, and taken out before the waves are measured.

A pacing spike lasts under 2 ms, far briefer than any wave of the heart, so it is what a short running median
(12 ms) cannot follow: the residual of the raw signal around that median is large only at spikes (a 500 Hz
recording still shows them as one or two samples) and at the apex of a tall, sharp R wave, where the running
median itself rises and falls by more than the residual; a spike rides on a slower wave. Muscle noise (a
shivering or tense patient) also leaves such residuals, many of them, within a few milliseconds of each other:
a spike stands far out of the residual around it, a peak of the noise does not. A spike seen in
several leads at once is a pacemaker output; one the QRS complex follows at once paced the ventricles, one
before it that the QRS does not follow at once (a P wave and the AV delay come between) the atria. The spikes
are then taken out (the decay a cart's input stage leaves after them subtracted, the spike bridged by linear
interpolation) so no filter spreads them into the QRS or P.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter, median_filter, minimum_filter

_MEDIAN_S = 0.012  # running median this long: every physiological wave follows it, a spike does not
_SPIKE_MV = 0.5  # residual at least this large (µV-level noise stays far below it) ...
_SPIKE_OVER_WAVE = 1.0  # ... and larger than the wave it rides on moves: LUDB's spikes 1.2-110 times, the apex
# of a tall sharp R wave (LUDB's tallest at 2-3 times their gain) 0.1-0.75 times
_SPIKE_OVER_NOISE = 10.0  # ... and this many times the lead's noise around it (robust SD of the residual), in 2+
# leads: LUDB's spikes (second-strongest lead) 15.6 times or more under 50 µV of broadband noise but for 1 of 143
# (9.8); the residual peaks of bursts of muscle noise (20-150 Hz, 0.1 mV RMS) at most 9.4 times (1231 of them).
# One false spike bridged changes little, a lost real one leaves a spike in its beat (at 12, LUDB 8's QRS under
# muscle noise came out 22 ms long)
_NOISE_SPAN_S = 0.1  # the noise around a spike is judged this far either side of it ...
_NOISE_GAP_S = 0.006  # ... leaving out the spike itself
_MIN_LEADS = 2  # a spike in one lead only is an artefact of that lead
_SAME_SPIKE_S = 0.004  # residual peaks of different leads within this are one spike
BRIDGE_S = 0.004  # signal replaced either side of a spike
_PACED_BEAT_S = 0.4  # a beat's spikes lie up to this long before its fiducial (and after the previous beat's)
_CAPTURE_S = 0.06  # the spike the QRS follows within this paced the ventricles: LUDB's paced records 4-40 ms; an
# atrial spike is followed by a P wave, and the QRS only after the AV delay (100 ms and more)
_QRS_UNDER_WAY = 0.3  # the QRS is under way where the spatial velocity reaches this share of the beat's peak (a P
# wave's slope is a tenth of the QRS's)
_PACED_SHARE = 0.5  # a chamber is paced when this share of beats has its spike
_TAIL_MIN_MV = 0.2  # a spike's tail this large where its bridge ends is subtracted ...
_TAIL_RATIOS = (0.3, 0.95)  # ... when it decays by a ratio per sample within these
_TAIL_END_FRACTION = 0.01  # ... over as many samples as it takes to fall to this fraction
_TAIL_MIN_SPIKES = 3  # the decay is a property of the cart, judged on this many spikes at least (one is an artefact)
_SPIKE_AT_FIDUCIAL_S = 0.01  # a median beat's spike may lie this far after its fiducial (the steepest point)


def find_spikes(signal: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices (sorted) of pacemaker spikes in a (n_leads, n_samples) mV recording at ``fs`` Hz."""
    width = max(3, int(_MEDIAN_S * fs) | 1)
    running = median_filter(signal, size=(1, width), mode="nearest")
    residual = np.abs(signal - running)
    # the wave under it: how far the running median itself moves within a median's length either side
    moving = (maximum_filter(running, size=(1, 2 * width + 1), mode="nearest")
              - minimum_filter(running, size=(1, 2 * width + 1), mode="nearest"))
    hits = (residual >= _SPIKE_MV) & (residual > _SPIKE_OVER_WAVE * moving)
    if hits.sum(axis=0).max(initial=0) == 0:
        return np.zeros(0, dtype=np.int64)
    gap = max(1, int(_SAME_SPIKE_S * fs))
    columns = np.flatnonzero(hits.any(axis=0))
    groups = np.split(columns, np.flatnonzero(np.diff(columns) > gap) + 1)
    spikes = []
    for group in groups:
        leads = hits[:, group[0]:group[-1] + 1].any(axis=1)
        if leads.sum() < _MIN_LEADS:
            continue
        peak = group[np.argmax(residual[:, group].sum(axis=0))]
        height = residual[leads, group[0]:group[-1] + 1].max(axis=1)
        if (height > _SPIKE_OVER_NOISE * _noise_sd(residual[leads], peak, fs)).sum() >= _MIN_LEADS:
            spikes.append(peak)
    return np.asarray(spikes, dtype=np.int64)


def _noise_sd(residual: np.ndarray, at: int, fs: float) -> np.ndarray:
    """Per lead: the noise's SD (from the median absolute residual) within `_NOISE_SPAN_S` of sample ``at``,
    the `_NOISE_GAP_S` around it left out."""
    span, gap = int(_NOISE_SPAN_S * fs), max(1, int(_NOISE_GAP_S * fs))
    around = np.concatenate((residual[:, max(0, at - span):max(0, at - gap)], residual[:, at + gap + 1:at + span + 1]),
                            axis=1)
    return 1.4826 * np.median(around, axis=1) if around.shape[1] else np.zeros(residual.shape[0])


def bridge_spikes(signal: np.ndarray, fs: float, spikes: np.ndarray) -> np.ndarray:
    """A copy of ``signal`` with each spike taken out: the exponential tail it leaves subtracted
    (`spike_tail_ratio`), then the spike itself replaced by a straight line between its neighbours."""
    bridged = signal.copy()
    half = max(1, int(BRIDGE_S * fs))
    ratio = spike_tail_ratio(signal, spikes, half)
    for spike in spikes:
        start, stop = max(0, spike - half), min(signal.shape[1] - 1, spike + half)
        if ratio is not None:
            tail = bridged[:, stop] - bridged[:, start]  # the tail's height where the bridge ends, per lead
            tail[np.abs(tail) < _TAIL_MIN_MV] = 0.0  # a small one is as much the heart's signal as the spike's
            length = min(int(np.ceil(np.log(_TAIL_END_FRACTION) / np.log(ratio))), signal.shape[1] - stop)
            bridged[:, stop:stop + length] -= tail[:, None] * ratio ** np.arange(length)
        bridged[:, start:stop + 1] = np.linspace(bridged[:, start], bridged[:, stop], stop - start + 1, axis=1)
    return bridged


def spike_tail_ratio(signal: np.ndarray, spikes: np.ndarray, half: int) -> float | None:
    """Per-sample decay of the tail the recording's spikes leave, or None when they leave none.

    A spike passed through a cart's input stage is followed by an exponential decay of 10-20 ms (LUDB's
    paced records: a ratio of 0.72 per 2 ms sample, in every lead and spike alike), which bridging alone
    leaves in the signal, steeper than any QRS. The ratio is one property of the cart: the median over the
    spikes and the leads where the tail is `_TAIL_MIN_MV` or more of successive samples' distances from
    the level before the spike; outside `_TAIL_RATIOS` it is no decay (a bare spike, or a step that stays).
    """
    if spikes.size < _TAIL_MIN_SPIKES:
        return None
    ratios = []
    for spike in spikes:
        if spike - half < 0 or spike + half + 2 >= signal.shape[1]:
            continue
        after = signal[:, spike + half:spike + half + 3] - signal[:, spike - half, None]
        large = np.abs(after[:, 0]) >= _TAIL_MIN_MV
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero crossing gives ±inf: the median copes
            ratios += list(after[large, 1] / after[large, 0]) + list(after[large, 2] / after[large, 1])
    if not ratios:
        return None
    ratio = float(np.nanmedian(ratios))
    return ratio if _TAIL_RATIOS[0] <= ratio <= _TAIL_RATIOS[1] else None


def beat_spikes(spikes_s: np.ndarray, beats_s: np.ndarray, velocity: np.ndarray, rate: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per beat (fiducials at ``beats_s`` s): the time (s) of the spike that paced its ventricles (NaN where none),
    and whether a spike paced its atria. ``velocity``: the recording's spatial velocity at ``rate`` Hz, spikes
    bridged.

    A beat's spikes lie after the previous beat's fiducial and at most `_PACED_BEAT_S` before its own (or
    `_SPIKE_AT_FIDUCIAL_S` after it: a fusion beat). The last of them paced the ventricles when the QRS is under
    way within `_CAPTURE_S` of it; where it is, is no fixed distance from the fiducial, which in a wide paced QRS
    can lie 150 ms after the spike (LUDB 90), as far as an atrial spike before a narrow one. Any other paced the
    atria.
    """
    ventricular_s = np.full(beats_s.size, np.nan)
    atrial = np.zeros(beats_s.size, dtype=bool)
    for index, beat_s in enumerate(beats_s):
        after_s = beat_s - _PACED_BEAT_S if index == 0 else max(beat_s - _PACED_BEAT_S,
                                                                 beats_s[index - 1] + _SPIKE_AT_FIDUCIAL_S)
        own = spikes_s[(spikes_s > after_s) & (spikes_s <= beat_s + _SPIKE_AT_FIDUCIAL_S)]
        if own.size and _qrs_follows(own[-1], beat_s, velocity, rate):
            ventricular_s[index], own = own[-1], own[:-1]
        atrial[index] = own.size > 0
    return ventricular_s, atrial


def _qrs_follows(spike_s: float, beat_s: float, velocity: np.ndarray, rate: float) -> bool:
    """Whether the spatial velocity, past the spike's bridge, reaches `_QRS_UNDER_WAY` of the beat's peak (within
    0.1 s of its fiducial) within `_CAPTURE_S` of the spike."""
    beat, reach = int(round(beat_s * rate)), int(round(0.1 * rate))
    peak = velocity[max(0, beat - reach):beat + reach + 1].max(initial=0.0)
    start = int(round((spike_s + BRIDGE_S) * rate)) + 1
    stop = int(round((spike_s + _CAPTURE_S) * rate)) + 1
    return peak > 0 and bool(np.any(velocity[max(0, start):max(0, stop)] >= _QRS_UNDER_WAY * peak))


def pacing_summary(spikes: np.ndarray, ventricular_s: np.ndarray, atrial: np.ndarray, fs: float,
                   pacemaker: bool | None = None) -> dict:
    """{"spikes", "atrial", "ventricular", "mode", "note"}: which chambers are paced, from the beats'
    spikes (`beat_spikes`: the ventricular spike's time per beat, NaN where none; whether the atria were paced);
    mode is "atrial", "ventricular", "dual-chamber" or None. ``pacemaker``: whether the patient has one, as the
    request or the file states (None: not stated); ``note`` says where that and the spikes disagree
    (`stated_pacemaker_note`), else None."""
    n_beats = atrial.size
    paced_v = n_beats > 0 and np.isfinite(ventricular_s).sum() >= _PACED_SHARE * n_beats
    paced_a = n_beats > 0 and atrial.sum() >= _PACED_SHARE * n_beats
    mode = ("dual-chamber" if paced_a and paced_v else "ventricular" if paced_v else "atrial" if paced_a
            else None)
    return {"spikes": int(spikes.size), "atrial": bool(paced_a), "ventricular": bool(paced_v), "mode": mode,
            "note": stated_pacemaker_note(pacemaker, mode, fs)}


def stated_pacemaker_note(pacemaker: bool | None, mode: str | None, fs: float) -> str | None:
    """What a stated pacemaker (or a stated absence of one) means beside the spikes found, or None where they agree.

    A bipolar pacemaker's spikes can be too small to tell from a sharp QRS onset at a cart's 500 Hz (LUDB 90's are
    0.07-0.3 mV in most beats), which is why carts ask the operator and files keep the answer (Philips'
    ``pacestatus``, SCP-ECG's medical history): no spike found then does not mean no pacing.
    """
    if pacemaker and mode is None:
        return (f"a pacemaker is stated but no pacing spike was found: at {fs:g} Hz a bipolar pacemaker's spikes can "
                "be too small to see, so the rhythm may be paced; the QRS and PR are measured as if it were not")
    if pacemaker is False and mode is not None:
        return ("pacing spikes were found though the patient is stated to have no pacemaker: they may be artefacts of "
                "the recording (the measurements treat them as pacing)")
    return None


def median_beat_spike(spikes_s: np.ndarray, beat_times_s: np.ndarray, fiducial: int, fs: float) -> int | None:
    """Sample of a median beat (``fs`` Hz, its beats' fiducial points at ``beat_times_s`` s and at sample
    ``fiducial``) where their ventricular pacing spike lies: of the ventricular spikes (``spikes_s``, s), each
    beat's last one before its fiducial (within `_PACED_BEAT_S`, or up to `_SPIKE_AT_FIDUCIAL_S` after it), median
    over the beats; None when fewer than `_PACED_SHARE` of them have one."""
    lags = []
    for time in beat_times_s:
        lag = time - spikes_s
        lag = lag[(lag >= -_SPIKE_AT_FIDUCIAL_S) & (lag < _PACED_BEAT_S)]
        if lag.size:
            lags.append(lag.min())
    if not lags or len(lags) < _PACED_SHARE * len(beat_times_s):
        return None
    return fiducial - int(round(float(np.median(lags)) * fs))
