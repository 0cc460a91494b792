"""Decoded leads → a `Recording`: canonical names, equal lengths, calibration pulses cut, 8 leads → 12.

Every format's reader ends here, so the checks and repairs are the same whichever library decoded the file.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InputError
from ..leads import LIMB_LEADS, STANDARD_LEADS, canonical_lead_name, to_twelve_lead
from ..settings import Limits
from ..signal import Recording, finish_recording

_LABEL_PREFIX = re.compile(r"^\s*(ecg|ekg)[\s_\-:]*", re.IGNORECASE)  # EDF and CSV labels: "ECG II", "EKG V1"
_CALIBRATION_MIN_S = 0.1  # a shorter run of identical leads is not a calibration pulse
_CALIBRATION_MV = (0.5, 2.0)  # carts write a 1 mV pulse (0.5 or 2 mV at half or double gain)
_SAME_MV = 1e-6


def lead_name(label: str) -> str | None:
    """A file's lead label in canonical spelling, or None when it is not an ECG lead (e.g. "Pleth")."""
    return canonical_lead_name(label) or canonical_lead_name(_LABEL_PREFIX.sub("", label))


def common_rate(rates: list[float], fmt: str, field: str) -> float:
    """The one sampling rate all leads share (0 when there are none: build_recording then refuses the rate)."""
    distinct = sorted(set(rates))
    if len(distinct) > 1:
        listed = ", ".join(f"{rate:g}" for rate in distinct)
        raise InputError(field, f"{fmt}: leads sampled at different rates ({listed} Hz)")
    return distinct[0] if distinct else 0.0


def left_out_note(labels: list[str]) -> str:
    return f"signals that are not standard ECG leads were left out: {', '.join(labels[:12])}"


def build_recording(leads: list[tuple[str, np.ndarray]], fs: float, fmt: str, field: str, limits: Limits,
                    notes: list[str] | None = None) -> Recording:
    """``leads`` are (label, samples in mV) in file order, all sampled at ``fs``."""
    notes = list(notes or [])
    if not limits.min_fs <= fs <= limits.max_fs:
        raise InputError(field, f"{fmt}: sampling rate {fs:g} Hz is outside the supported range "
                         f"{limits.min_fs:g}-{limits.max_fs:g} Hz")
    names, rows, ignored = [], [], []
    for label, samples in leads:
        name = lead_name(label)
        if name is None or name in names:
            ignored.append(str(label)[:16])
            continue
        names.append(name)
        rows.append(np.asarray(samples, dtype=np.float64).ravel())
    if not rows:
        raise InputError(field, f"{fmt}: not an ECG: no standard lead among its {len(leads)} signals "
                         f"({', '.join(ignored[:6])}); expected leads such as I, II, V1")
    if ignored:
        notes.append(left_out_note(ignored))
    order = sorted(range(len(names)), key=lambda i: STANDARD_LEADS.index(names[i]))  # standard lead order
    names, rows = [names[i] for i in order], [rows[i] for i in order]
    lengths = {name: row.size for name, row in zip(names, rows)}
    if len(set(lengths.values())) > 1:
        longest, shortest = max(lengths, key=lengths.get), min(lengths, key=lengths.get)
        raise InputError(field, f"{fmt}: leads of unequal length ({longest}: {lengths[longest]} samples, "
                         f"{shortest}: {lengths[shortest]})")
    n_samples = rows[0].size
    if n_samples > limits.max_samples:
        raise InputError(field, f"{fmt}: recording too long: {n_samples} samples per lead at {fs:g} Hz; "
                         f"the limit is {limits.max_samples}")
    signal = np.vstack(rows)
    signal = _cut_calibration(signal, fs, notes)
    _check_amplitude(signal, names, fmt, field, limits)
    signal, names = _complete_limb_leads(signal, tuple(names), notes)
    return finish_recording(signal, fs, names, field, limits, notes)


def _cut_calibration(signal: np.ndarray, fs: float, notes: list[str]) -> np.ndarray:
    """Drop a calibration pulse at either end: every lead identical, stepping by about 1 mV.

    Real leads never coincide for 0.1 s, so a run where all of them do is the cart's test signal.
    """
    if signal.shape[0] < 2 or not np.isfinite(signal).all():
        return signal
    same = np.ptp(signal, axis=0) <= _SAME_MV
    if same.all():  # identical throughout (e.g. flat): nothing to tell apart, signal quality will say so
        return signal
    head, tail = int(np.argmin(same)), int(np.argmin(same[::-1]))
    start, stop = 0, signal.shape[1]
    if _is_pulse(signal[0, :head], fs):
        start = head
        notes.append(f"calibration pulse cut at the start ({head / fs:.2f} s)")
    if _is_pulse(signal[0, stop - tail:], fs):
        stop -= tail
        notes.append(f"calibration pulse cut at the end ({tail / fs:.2f} s)")
    return signal[:, start:stop]


def _is_pulse(segment: np.ndarray, fs: float) -> bool:
    return segment.size >= _CALIBRATION_MIN_S * fs and \
        _CALIBRATION_MV[0] <= float(np.ptp(segment)) <= _CALIBRATION_MV[1]


def _check_amplitude(signal: np.ndarray, names: list[str], fmt: str, field: str, limits: Limits) -> None:
    finite = np.where(np.isfinite(signal), signal, 0.0)
    spans = np.ptp(finite, axis=1)
    worst = int(np.argmax(spans))
    if spans[worst] > limits.max_file_amplitude_mv:
        raise InputError(field, f"{fmt}: a calibration that makes no sense: lead {names[worst]} spans "
                         f"{spans[worst]:.4g} mV (a real ECG stays under {limits.max_file_amplitude_mv:g} mV); "
                         "check the file's gain or units")


def _complete_limb_leads(signal: np.ndarray, names: tuple[str, ...],
                         notes: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Carts store I, II and V1–V6 and derive III, aVR, aVL, aVF from I and II; do the same."""
    if not {"I", "II"} <= set(names) or set(LIMB_LEADS) <= set(names):
        return signal, names
    twelve = to_twelve_lead(signal, names)
    present = [i for i, name in enumerate(STANDARD_LEADS) if name not in twelve.missing]
    notes.append(f"{', '.join(twelve.derived)} derived from I and II")
    return twelve.signal[present], tuple(STANDARD_LEADS[i] for i in present)
