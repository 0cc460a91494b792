"""ECG-FM's own preprocessing: 12 leads in standard order → 500 Hz → per-lead standardisation → 5 s segments.

Reproduces the ECG-FM repository's CODE-15 pipeline (linear resampling with the original samples placed
at ``linspace(0, m - 1, n)``, population standard deviation over the whole resampled recording).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from ..leads import STANDARD_LEADS, TwelveLead, canonical_lead_name, to_twelve_lead

MODEL_FS = 500.0  # Hz
SEGMENT_SAMPLES = 2500  # 5 s at 500 Hz


def arrange_leads(signal: np.ndarray, lead_names: Sequence[str] | None) -> TwelveLead:
    """(n_leads, n_samples) with names (aliases allowed) → the 12 standard leads, deriving limb leads."""
    if lead_names is None:
        if signal.shape[0] != len(STANDARD_LEADS):
            raise InputError("inputs.lead_names", f"required for a recording of {signal.shape[0]} leads; "
                             f"without names exactly 12 leads in the order {', '.join(STANDARD_LEADS)} are assumed")
        lead_names = STANDARD_LEADS
    if len(lead_names) != signal.shape[0]:
        raise InputError("inputs.lead_names", f"{len(lead_names)} names for {signal.shape[0]} leads")
    names = []
    for index, name in enumerate(lead_names):
        canonical = canonical_lead_name(name)
        if canonical is None:
            raise InputError(f"inputs.lead_names[{index}]", f"unknown lead {str(name)[:20]!r}")
        names.append(canonical)
    return to_twelve_lead(signal, tuple(names))


def resample_to_model_fs(signal: np.ndarray, fs: float) -> np.ndarray:
    """Linear interpolation onto ``int(n * 500 / fs)`` points, as ECG-FM resamples."""
    n_samples = signal.shape[1]
    target = int(n_samples * MODEL_FS / fs)
    if target == n_samples:
        return signal
    positions = np.linspace(0, target - 1, n_samples)
    grid = np.arange(target)
    return np.stack([np.interp(grid, positions, lead) for lead in signal])


def standardize(signal: np.ndarray) -> np.ndarray:
    """Zero mean, unit population std per lead; a constant (or zeroed, missing) lead becomes all zeros."""
    mean = signal.mean(axis=1, keepdims=True)
    std = signal.std(axis=1, keepdims=True)
    centred = signal - mean
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)


def model_segments(twelve_leads: np.ndarray, fs: float, pad_short: bool = False) -> np.ndarray:
    """(12, n) at ``fs`` Hz → float32 (n_segments, 12, 2500); the remainder after the last full segment
    is dropped. Shorter than 5 s: an `InputError` unless ``pad_short`` (then zero-padded at the end)."""
    standardized = standardize(resample_to_model_fs(twelve_leads, fs))
    n_segments = standardized.shape[1] // SEGMENT_SAMPLES
    if n_segments == 0:
        if not pad_short:
            raise InputError("inputs.signal", f"recording is {twelve_leads.shape[1] / fs:.2f} s long; ECG-FM "
                             f"needs at least 5 s; set parameters.pad_short=true to zero-pad")
        padding = SEGMENT_SAMPLES - standardized.shape[1]
        standardized, n_segments = np.pad(standardized, ((0, 0), (0, padding))), 1
    kept = standardized[:, :n_segments * SEGMENT_SAMPLES]
    return kept.reshape(12, n_segments, SEGMENT_SAMPLES).transpose(1, 0, 2).astype(np.float32)


def preprocess(signal: np.ndarray, fs: float, lead_names: Sequence[str] | None = None, *,
               pad_short: bool = False) -> np.ndarray:
    """Raw leads × samples at ``fs`` Hz → float32 (n_segments, 12, 2500); units cancel in the standardisation.

    Without ``lead_names`` the 12 rows must be in the standard order I, II, III, aVR, aVL, aVF, V1–V6.
    """
    array = np.asarray(signal, dtype=np.float64)
    if array.ndim != 2:
        raise InputError("inputs.signal", f"expected a 2-D array (leads × samples), got {array.ndim} dimensions")
    if not np.isfinite(array).all():
        raise InputError("inputs.signal", "contains NaN or infinite values (repair them first, as "
                         "ecg_core.signal.parse_recording does)")
    if not np.isfinite(fs) or fs <= 0:
        raise InputError("inputs.fs", f"expected a positive sampling rate in Hz, got {fs!r}")
    return model_segments(arrange_leads(array, lead_names).signal, float(fs), pad_short)
