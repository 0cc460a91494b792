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

from .template import MedianBeat, spatial_velocity

_QRS_SEARCH_S = (0.15, 0.2)  # QRS boundaries are looked for this far before / after the fiducial point
_QRS_CORE_FRACTION = 0.3  # of the peak slope: clearly inside the QRS
_QRS_EDGE_FRACTION = 0.06  # of the peak slope above the isoelectric floor: the QRS boundary
_QRS_MAX_PAUSE_S = 0.012  # a shorter dip of the slope below that level is a peak inside the QRS
_MAX_PR_S = 0.42  # P onset is looked for at most this long before QRS onset
_MIN_P_MV = 0.04  # a P wave smaller than this (spatial magnitude) is not called
_P_NOISE_FACTOR = 4.0  # ... nor one less than this many times the noise in the median beat
_T_GAP_S = 0.04  # the T wave is looked for this long after QRS offset
_T_TAIL_S = 0.25  # reference point of the trapezium: this long after the T peak's steepest descent


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


def delineate(beat: MedianBeat, rr_s: float) -> Boundaries:
    """QRS, then T end, then P, on a median beat whose mean RR interval is ``rr_s`` seconds."""
    fs, wave = beat.fs, beat.waveform
    qrs = _qrs_bounds(wave, fs, beat.fiducial)
    if qrs is None:
        return Boundaries(problems={"qrs": "no clear QRS complex in the median beat"})
    qrs_on, qrs_off = qrs
    baseline = wave[:, max(0, qrs_on - int(0.02 * fs)):qrs_on + 1].mean(axis=1, keepdims=True)  # PR segment
    magnitude = np.sqrt(np.sum((wave - baseline) ** 2, axis=0))
    problems: dict[str, str] = {}
    t_end = _t_end(magnitude, fs, qrs_on, qrs_off, rr_s)
    if t_end is None:
        problems["t_end"] = "no T wave found after the QRS complex"
    p_on, p_off = _p_wave(magnitude, beat, qrs_on, t_end, rr_s, problems)
    return Boundaries(qrs_on, qrs_off, p_on, p_off, t_end, baseline[:, 0], problems)


def _qrs_bounds(wave: np.ndarray, fs: float, fiducial: int) -> tuple[int, int] | None:
    velocity = spatial_velocity(wave, fs)
    start = max(0, fiducial - int(_QRS_SEARCH_S[0] * fs))
    stop = min(velocity.size, fiducial + int(_QRS_SEARCH_S[1] * fs))
    peak = velocity[start:stop].max()
    floor = np.percentile(velocity, 10)
    if peak <= 3 * floor:
        return None
    core = np.flatnonzero(velocity[start:stop] >= floor + _QRS_CORE_FRACTION * (peak - floor)) + start
    edge = floor + _QRS_EDGE_FRACTION * (peak - floor)
    gap = max(2, int(_QRS_MAX_PAUSE_S * fs))
    return _last_above(velocity, core[0], start, edge, gap), _last_above(velocity, core[-1], stop - 1, edge, gap)


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


def _t_end(magnitude: np.ndarray, fs: float, qrs_on: int, qrs_off: int, rr_s: float) -> int | None:
    start = qrs_off + int(_T_GAP_S * fs)
    stop = min(magnitude.size - 1, qrs_on + int(min(0.7, 0.92 * rr_s) * fs))
    if stop - start < int(0.08 * fs):
        return None
    t_peak = start + int(np.argmax(magnitude[start:stop]))
    if t_peak >= stop - 2:
        return None
    falls = np.diff(magnitude[t_peak:stop])
    steepest = t_peak + int(np.argmin(falls))
    reference = min(stop, steepest + int(_T_TAIL_S * fs))
    return trapezium_boundary(magnitude, t_peak, reference)


def _p_wave(magnitude: np.ndarray, beat: MedianBeat, qrs_on: int, t_end: int | None, rr_s: float,
            problems: dict[str, str]) -> tuple[int | None, int | None]:
    fs = beat.fs
    start = max(0, qrs_on - int(min(_MAX_PR_S, 0.9 * rr_s) * fs))
    if t_end is not None:  # the previous beat's T wave ends (t_end - qrs_on) after the previous QRS
        start = max(start, qrs_on - int(rr_s * fs) + (t_end - qrs_on) + int(0.02 * fs))
    stop = qrs_on - int(0.02 * fs)
    if stop - start < int(0.06 * fs):
        problems["p"] = "no room for a P wave between the previous T wave and the QRS complex"
        return None, None
    segment = magnitude[start:stop]
    p_peak = start + int(np.argmax(segment))
    height = segment.max() - np.percentile(segment, 10)
    noise = float(np.sqrt(np.sum(beat.median_noise_mv ** 2)))
    if height < max(_MIN_P_MV, _P_NOISE_FACTOR * noise) or p_peak in (start, stop - 1):
        problems["p"] = ("no consistent P wave before the QRS complexes (as in atrial fibrillation or "
                         "flutter, junctional rhythm, or a noisy baseline)")
        return None, None
    return trapezium_boundary(magnitude, p_peak, start), trapezium_boundary(magnitude, p_peak, qrs_on)
