"""Pacemaker spikes: found, attributed to the chamber they pace, and taken out before the waves are measured.

A pacing spike lasts under 2 ms, far briefer than any wave of the heart, so it is what a short running
median (12 ms) cannot follow: the residual of the raw signal around that median is large only at spikes
(a 500 Hz recording still shows them as one or two samples). A spike seen in several leads at once is a
pacemaker output; one shortly before a QRS complex paces the ventricles, one a P wave's length before it
the atria. The spikes are then bridged (linear interpolation) so no filter spreads them into the QRS or P.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

_MEDIAN_S = 0.012  # running median this long: every physiological wave follows it, a spike does not
_SPIKE_MV = 0.5  # residual at least this large (µV-level noise and the sharpest R apex stay far below it)
_MIN_LEADS = 2  # a spike in one lead only is an artefact of that lead
_SAME_SPIKE_S = 0.004  # residual peaks of different leads within this are one spike
_BRIDGE_S = 0.004  # signal replaced either side of a spike
_VENTRICULAR_S = (0.0, 0.12)  # spike this long before a beat's fiducial (R peak): it paced that QRS
_ATRIAL_S = (0.12, 0.4)  # ... this long before: it paced the atria (P wave, then a conducted QRS)
_PACED_SHARE = 0.5  # a chamber is paced when this share of beats has its spike


def find_spikes(signal: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices (sorted) of pacemaker spikes in a (n_leads, n_samples) mV recording at ``fs`` Hz."""
    width = max(3, int(_MEDIAN_S * fs) | 1)
    residual = np.abs(signal - median_filter(signal, size=(1, width), mode="nearest"))
    hits = residual >= _SPIKE_MV
    if hits.sum(axis=0).max(initial=0) == 0:
        return np.zeros(0, dtype=np.int64)
    gap = max(1, int(_SAME_SPIKE_S * fs))
    columns = np.flatnonzero(hits.any(axis=0))
    groups = np.split(columns, np.flatnonzero(np.diff(columns) > gap) + 1)
    spikes = [group[np.argmax(residual[:, group].sum(axis=0))] for group in groups
              if hits[:, group[0]:group[-1] + 1].any(axis=1).sum() >= _MIN_LEADS]
    return np.asarray(spikes, dtype=np.int64)


def bridge_spikes(signal: np.ndarray, fs: float, spikes: np.ndarray) -> np.ndarray:
    """A copy of ``signal`` with each spike replaced by a straight line between its neighbours."""
    bridged = signal.copy()
    half = max(1, int(_BRIDGE_S * fs))
    for spike in spikes:
        start, stop = max(0, spike - half), min(signal.shape[1] - 1, spike + half)
        bridged[:, start:stop + 1] = np.linspace(signal[:, start], signal[:, stop], stop - start + 1, axis=1)
    return bridged


def pacing_summary(spikes: np.ndarray, beats: np.ndarray, fs: float) -> dict:
    """{"spikes", "atrial", "ventricular", "mode"}: which chambers are paced, from where the spikes fall
    relative to the beats (R peaks, samples at ``fs``); mode is "atrial", "ventricular", "dual-chamber" or None."""
    ventricular = atrial = 0
    for beat in beats:
        lead_times = (beat - spikes[spikes <= beat]) / fs
        ventricular += bool(np.any((lead_times >= _VENTRICULAR_S[0]) & (lead_times < _VENTRICULAR_S[1])))
        atrial += bool(np.any((lead_times >= _ATRIAL_S[0]) & (lead_times < _ATRIAL_S[1])))
    paced_v = beats.size > 0 and ventricular >= _PACED_SHARE * beats.size
    paced_a = beats.size > 0 and atrial >= _PACED_SHARE * beats.size
    mode = ("dual-chamber" if paced_a and paced_v else "ventricular" if paced_v else "atrial" if paced_a
            else None)
    return {"spikes": int(spikes.size), "atrial": bool(paced_a), "ventricular": bool(paced_v), "mode": mode}
