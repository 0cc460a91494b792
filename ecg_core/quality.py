"""Signal quality per lead and overall: flat line, disconnection, clipping, noise, wander, power-line hum.

Each lead gets simple physical metrics (mV and fractions, all reported) and a score from 0 to 1; the
recording's grade comes from the leads' scores and from whether QRS complexes can be found at all.
"""

from __future__ import annotations

import numpy as np

from .measure.core import validate_signal
from .measure.lead_selection import FLAT_MV
from .measure.filters import bandpass, highpass, remove_powerline
from .measure.rpeaks import consensus_beats

GRADES = ("Excellent", "Good", "Acceptable", "Poor", "Unusable")
_GRADE_FLOORS = (0.9, 0.75, 0.55, 0.3, 0.0)  # lowest score of each grade
_FLAT_RUN_S = 1.0  # a constant stretch this long is a lead off or a dropout
# (metric, threshold, penalty, problem): a lead loses ``penalty`` for each threshold its metric exceeds.
_PENALTIES = (
    ("clipped_fraction", 0.002, 0.3, "clipping (samples stuck at the recorder's limit)"),
    ("clipped_fraction", 0.05, 0.4, None),
    ("hf_noise_mv", 0.03, 0.15, "high-frequency (muscle) noise"),
    ("hf_noise_mv", 0.08, 0.35, None),
    ("wander_mv", 1.0, 0.15, "baseline wander"),
    ("wander_mv", 3.0, 0.3, None),
    ("powerline_mv", 0.02, 0.15, "power-line (50/60 Hz) interference"),
    ("powerline_mv", 0.1, 0.3, None),
)


def assess(signal, fs: float, lead_names=None, beats: np.ndarray | None = None) -> dict:
    """Quality of a (n_leads, n_samples) mV recording at ``fs`` Hz (a 1-D array is one lead).

    ``beats``: the QRS complexes `ecg_core.measure.analyse` already found (sample indices), so they are
    detected once per recording; without them they are detected here.

    Returns {"grade", "score" (0..1), "reasons": [str], "leads": [{"lead", "grade", "score",
    "problems", "amplitude_mv", "hf_noise_mv", "wander_mv", "powerline_mv", "clipped_fraction",
    "flat_fraction"}]}; metric units: mV (RMS for noise and hum, peak-to-peak for amplitude and wander)
    and fractions of the samples.
    """
    signal, names = validate_signal(signal, fs, lead_names)
    labels = list(names) if names is not None else list(range(signal.shape[0]))
    leads = [_assess_lead(lead, fs, label) for lead, label in zip(signal, labels)]
    scores = np.array([lead["score"] for lead in leads])
    reasons = [f"lead {lead['lead']}: {problem}" for lead in leads for problem in lead["problems"]]
    usable = scores > 0
    score = float(scores.mean())
    if usable.any() and (len(beats) if beats is not None else consensus_beats(signal[usable], fs).size) < 2:
        reasons.insert(0, "no QRS complexes could be detected")
        score = min(score, 0.2)
    # a missing or poor lead (the measurements leave a loose electrode's out) costs at least a grade, more
    # than half of them two grades more: the mean of the other leads' scores would hide one
    readable = scores >= _GRADE_FLOORS[GRADES.index("Acceptable")]
    if not readable.all():
        score = min(score, 0.85 if readable.sum() >= len(leads) / 2 else 0.45)
    return {"grade": _grade(score), "score": round(score, 3), "reasons": reasons, "leads": leads}


def _assess_lead(lead: np.ndarray, fs: float, label) -> dict:
    ecg_band = bandpass(lead, fs)
    dehummed = remove_powerline(lead, fs)
    metrics = {
        "amplitude_mv": float(np.ptp(ecg_band)),
        "hf_noise_mv": float(np.std(highpass(dehummed, fs, min(40.0, 0.4 * fs)))),
        "wander_mv": float(np.ptp(lead - highpass(lead, fs, 0.5))),
        "powerline_mv": float(np.std(lead - dehummed)),
        "clipped_fraction": _clipped_fraction(lead),
        "flat_fraction": _flat_fraction(lead, fs),
    }
    problems: list[str] = []
    if metrics["amplitude_mv"] < FLAT_MV:
        problems.append("flat line: lead disconnected or not recorded")
        score = 0.0
    else:
        score = 1.0 - metrics["flat_fraction"]
        if metrics["flat_fraction"] > 0:
            problems.append(f"flat (lead off) for {metrics['flat_fraction']:.0%} of the recording")
        for metric, threshold, penalty, problem in _PENALTIES:
            if metrics[metric] > threshold:
                score -= penalty
                if problem:
                    problems.append(problem)
    score = max(0.0, score)
    rounded = {key: round(value, 4) for key, value in metrics.items()}
    return {"lead": label, "grade": _grade(score), "score": round(score, 3), "problems": problems, **rounded}


def _clipped_fraction(lead: np.ndarray) -> float:
    """Share of samples sitting at the lead's extreme value in runs of 3 or more (a saturated amplifier)."""
    span = np.ptp(lead)
    if span == 0:
        return 0.0
    at_rail = (lead >= lead.max() - 1e-6 * span) | (lead <= lead.min() + 1e-6 * span)
    return float(_in_runs(at_rail, 3).mean())


def _flat_fraction(lead: np.ndarray, fs: float) -> float:
    """Share of samples in constant stretches of at least `_FLAT_RUN_S` (an electrode off or a dropout)."""
    constant = np.concatenate(([False], np.diff(lead) == 0))
    return float(_in_runs(constant, int(_FLAT_RUN_S * fs)).mean())


def _in_runs(mask: np.ndarray, min_length: int) -> np.ndarray:
    """``mask`` with only its runs of at least ``min_length`` consecutive True kept."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    kept = np.zeros(mask.size, dtype=bool)
    for start, stop in zip(starts, stops):
        if stop - start >= min_length:
            kept[start:stop] = True
    return kept


def _grade(score: float) -> str:
    return next(grade for grade, floor in zip(GRADES, _GRADE_FLOORS) if score >= floor)
