"""A recording as the page draws it: the 12 standard leads (limb leads derived as render.py does),
baseline offset removed, resampled to at most `DISPLAY_FS` (plenty for 25 mm/s paper on a screen)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from ..leads import STANDARD_LEADS, to_twelve_lead
from ..signal import Recording

DISPLAY_FS = 250.0


def for_drawing(recording: Recording, seconds: float | None = None) -> dict:
    """``{"fs", "lead_names", "signal" (leads × samples, mV), "derived", "missing", "duration_s"}``;
    ``seconds`` keeps only the start of the recording."""
    signal = recording.signal if seconds is None else recording.signal[:, :int(round(seconds * recording.fs))]
    derived: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    names = list(recording.lead_names) if recording.lead_names else [f"lead {i + 1}" for i in range(len(signal))]
    if recording.lead_names:
        twelve = to_twelve_lead(signal, recording.lead_names)
        keep = [i for i, name in enumerate(STANDARD_LEADS) if name not in twelve.missing]
        signal, names = twelve.signal[keep], [STANDARD_LEADS[i] for i in keep]
        derived, missing = twelve.derived, twelve.missing
    fs, signal = downsample(signal, recording.fs)
    signal = signal - np.median(signal, axis=1, keepdims=True)
    return {"fs": fs, "lead_names": names, "signal": np.round(signal, 4), "derived": list(derived),
            "missing": list(missing), "duration_s": round(recording.duration_s, 3)}


def downsample(signal: np.ndarray, fs: float, target_fs: float = DISPLAY_FS) -> tuple[float, np.ndarray]:
    """(new fs, signal) with an anti-aliasing polyphase filter; unchanged when fs is already low enough."""
    if fs <= target_fs:
        return fs, signal
    ratio = Fraction(target_fs / fs).limit_denominator(100)
    return fs * ratio.numerator / ratio.denominator, resample_poly(signal, ratio.numerator, ratio.denominator, axis=-1)
