"""Turn a client's signal fields into a validated `Recording`: leads × samples, millivolts, no NaN.

Every check names the request field, so a client can fix the request from the message alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .leads import STANDARD_LEADS, canonical_lead_name
from .measure.bandwidth import StatedFilters
from .payload import brief, is_finite_number
from .settings import Limits

DEFAULT_FS = 500.0
UNIT_SCALE_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "microvolt": 1e-3, "v": 1e3, "millivolt": 1.0}
_MAX_SAMPLE = 1e300  # integers beyond float64 (a 400-digit one) arrive as Python ints in an object array


@dataclass(frozen=True)
class Recording:
    """One validated ECG recording."""

    signal: np.ndarray  # (n_leads, n_samples) float64, millivolts, finite
    fs: float  # Hz
    lead_names: tuple[str, ...] | None  # canonical names (see leads.py); None when the client gave none
    notes: tuple[str, ...] = field(default=())  # what was assumed or repaired, reported in the result
    filters: StatedFilters | None = None  # what the file says the recording was filtered with

    @property
    def duration_s(self) -> float:
        return self.signal.shape[1] / self.fs


def parse_recording(spec: dict[str, Any], prefix: str, limits: Limits) -> Recording:
    """Validate ``spec["signal"]`` with its ``fs``, ``lead_names`` and ``units`` (fields under ``prefix``)."""
    notes: list[str] = []
    fs = parse_fs(spec, prefix, limits, notes)
    lead_names = _parse_lead_names(spec.get("lead_names"), f"{prefix}.lead_names", limits)
    array = _to_float_array(spec.get("signal"), f"{prefix}.signal", limits)
    array = _orient(array, lead_names, f"{prefix}.signal", limits)
    array = array * unit_scale(spec.get("units"), f"{prefix}.units")
    names = lead_names
    if names is None and array.shape[0] == len(STANDARD_LEADS):
        names = STANDARD_LEADS
        notes.append("lead_names not given; assumed the standard order I, II, III, aVR, aVL, aVF, V1-V6")
    return finish_recording(array, fs, names, f"{prefix}.signal", limits, notes)


def finish_recording(array: np.ndarray, fs: float, names: tuple[str, ...] | None, field_name: str,
                     limits: Limits, notes: list[str]) -> Recording:
    """The checks every recording passes, from a request or a file: long enough, finite, gaps repaired."""
    n_samples = array.shape[1]
    if n_samples < limits.min_samples or n_samples / fs < limits.min_duration_s:
        raise InputError(field_name, f"recording too short: {n_samples} samples at {fs:g} Hz "
                         f"({n_samples / fs:.2f} s); at least {limits.min_duration_s:g} s are needed")
    array = _repair_nan(array, names, field_name, limits, notes)
    return Recording(signal=array, fs=fs, lead_names=names, notes=tuple(notes))


def parse_fs(spec: dict, prefix: str, limits: Limits, notes: list[str]) -> float:
    value = spec.get("fs", spec.get("sampling_rate"))
    if value is None:
        notes.append(f"fs not given; assumed {DEFAULT_FS:g} Hz")
        return DEFAULT_FS
    if isinstance(value, bool) or not is_finite_number(value):
        raise InputError(f"{prefix}.fs", f"expected a number of samples per second, got {brief(value)}")
    if not limits.min_fs <= value <= limits.max_fs:
        raise InputError(f"{prefix}.fs", f"{value:g} Hz is outside the supported range "
                         f"{limits.min_fs:g}-{limits.max_fs:g} Hz")
    return float(value)


def _parse_lead_names(value: Any, field_name: str, limits: Limits) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or len(value) > limits.max_leads:
        raise InputError(field_name, f"expected a list of 1 to {limits.max_leads} lead names")
    names = []
    for index, raw in enumerate(value):
        name = canonical_lead_name(raw) if isinstance(raw, str) else None
        if name is None:
            raise InputError(f"{field_name}[{index}]", f"unknown lead {str(raw)[:20]!r}; expected one of "
                             f"{', '.join(STANDARD_LEADS)} (aliases such as 'lead II', 'MLII', 'avr' work)")
        if name in names:
            raise InputError(f"{field_name}[{index}]", f"lead {name} is listed twice")
        names.append(name)
    return tuple(names)


def _to_float_array(value: Any, field_name: str, limits: Limits) -> np.ndarray:
    if value is None:
        raise InputError(field_name, "missing; expected a 2-D array of numbers (leads × samples)")
    if not isinstance(value, list) or not value:
        raise InputError(field_name, f"expected a non-empty 2-D array of numbers, got {type(value).__name__}")
    rows = value if isinstance(value[0], list) else [value]  # a flat list is one lead
    if len(rows) > max(limits.max_leads, limits.max_samples):
        raise InputError(field_name, f"too many rows ({len(rows)})")
    lengths = set()
    for index, row in enumerate(rows):
        if not isinstance(row, list):
            raise InputError(f"{field_name}[{index}]", f"expected a list of numbers, got {type(row).__name__}")
        lengths.add(len(row))
    if len(lengths) > 1:
        shortest, longest = min(lengths), max(lengths)
        raise InputError(field_name, f"expected 1 to {limits.max_leads} leads of equal length, "
                         f"got rows of {longest} and {shortest} samples")
    if 0 in lengths:
        raise InputError(field_name, "rows are empty")
    if len(rows) * max(lengths) > limits.max_leads * limits.max_samples:
        raise InputError(field_name, f"too many values ({len(rows) * max(lengths)}); the limit is "
                         f"{limits.max_leads} leads × {limits.max_samples} samples")
    try:
        array = np.array(rows)
    except (ValueError, TypeError):
        raise InputError(field_name, "expected numbers only (nested lists found inside a lead)") from None
    if array.dtype.kind in "iuf" and array.ndim == 2:
        return array.astype(np.float64)
    if array.dtype.kind == "O" and array.ndim == 2:
        # null samples are allowed (missing data, interpolated later); anything else non-numeric is not.
        for index, row in enumerate(rows):
            for position, sample in enumerate(row):
                if sample is not None and (isinstance(sample, bool) or not isinstance(sample, (int, float))):
                    raise InputError(f"{field_name}[{index}][{position}]",
                                     f"expected a number, got {type(sample).__name__}")
                if isinstance(sample, int) and not -_MAX_SAMPLE <= sample <= _MAX_SAMPLE:
                    raise InputError(f"{field_name}[{index}][{position}]", "number too large for a sample")
        return array.astype(np.float64)
    bad = "true/false values" if array.dtype.kind == "b" else "text" if array.dtype.kind in "US" else "nested lists"
    raise InputError(field_name, f"expected numbers only, found {bad}")


def _orient(array: np.ndarray, lead_names: tuple[str, ...] | None, field_name: str, limits: Limits) -> np.ndarray:
    """Return (leads, samples). Lead names decide when given; otherwise the short axis is the leads."""
    rows, cols = array.shape
    if lead_names is not None:
        if rows == len(lead_names):
            return array
        if cols == len(lead_names):
            return array.T
        raise InputError(field_name, f"shape {rows}×{cols} does not match {len(lead_names)} lead_names")
    if rows <= limits.max_leads < cols:
        return array
    if cols <= limits.max_leads < rows:
        return array.T
    raise InputError(field_name, f"cannot tell leads from samples in a {rows}×{cols} array; expected 1 to "
                     f"{limits.max_leads} leads (give lead_names to disambiguate)")


def unit_scale(value: Any, field_name: str) -> float:
    if value is None:
        return 1.0
    scale = UNIT_SCALE_TO_MV.get(str(value).strip().lower()) if isinstance(value, str) else None
    if scale is None:
        raise InputError(field_name, f"unknown unit {str(value)[:20]!r}; expected 'mV' (default), 'uV' or 'V'")
    return scale


def _repair_nan(array: np.ndarray, names: tuple[str, ...] | None, field_name: str, limits: Limits,
                notes: list[str]) -> np.ndarray:
    if np.isinf(array).any():
        raise InputError(field_name, "contains infinite values")
    missing = np.isnan(array)
    if not missing.any():
        return array
    array = array.copy()
    samples = np.arange(array.shape[1])
    for index in np.flatnonzero(missing.any(axis=1)):
        label = names[index] if names else f"row {index}"
        fraction = missing[index].mean()
        if fraction > limits.max_nan_fraction:
            raise InputError(field_name, f"lead {label} is {fraction:.1%} missing (null/NaN); at most "
                             f"{limits.max_nan_fraction:.0%} can be interpolated")
        good = ~missing[index]
        array[index, ~good] = np.interp(samples[~good], samples[good], array[index, good])
        notes.append(f"lead {label}: {int((~good).sum())} missing samples linearly interpolated")
    return array
