"""Zero-phase filters (scipy) shared by the measurements and the quality checks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal as sps
from scipy.interpolate import PchipInterpolator

ANALYSIS_FS = 500.0  # Hz; faster recordings are resampled to this (2 ms resolution is ample for intervals)
POWERLINE_HZ = (50.0, 60.0)


def bandpass(signal: np.ndarray, fs: float, low_hz: float = 0.5, high_hz: float = 40.0) -> np.ndarray:
    """Butterworth band-pass (order 2 each side, run forwards and backwards) along the last axis.

    0.5 Hz removes baseline wander while keeping the ST-T shape; 40 Hz removes muscle noise and most
    power-line hum. ``high_hz`` is lowered below Nyquist for slowly sampled recordings.
    """
    high_hz = min(high_hz, 0.45 * fs)
    sos = sps.butter(2, [low_hz, high_hz], btype="bandpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, signal, axis=-1)


MEASUREMENT_HIGH_HZ = 100.0  # wave boundaries: the median averages the noise out, a 40 Hz cut would smear the QRS
P_T_HIGH_HZ = 40.0  # P and T waves are found on the median beat low-passed to this (their noise is judged there)
T_END_HIGH_HZ = 20.0  # ... and the T end, where noise is left in the median beat, to this (`delineate._t_end`)


def measurement_filter(signal: np.ndarray, fs: float) -> np.ndarray:
    """The signal wave boundaries are measured on: hum notched, 0.5-100 Hz (cart bandwidth is 0.05-150 Hz)."""
    return bandpass(remove_powerline(signal, fs), fs, high_hz=MEASUREMENT_HIGH_HZ)


def lowpass(signal: np.ndarray, fs: float, cutoff_hz: float) -> np.ndarray:
    """Butterworth low-pass (order 2, zero phase) along the last axis; unchanged when ``cutoff_hz`` is at or
    above 0.45 ``fs``."""
    if cutoff_hz >= 0.45 * fs:
        return signal
    sos = sps.butter(2, cutoff_hz, btype="lowpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, signal, axis=-1)


def highpass(signal: np.ndarray, fs: float, cutoff_hz: float) -> np.ndarray:
    """Butterworth high-pass (order 2, zero phase) along the last axis."""
    sos = sps.butter(2, cutoff_hz, btype="highpass", fs=fs, output="sos")
    return sps.sosfiltfilt(sos, signal, axis=-1)


def remove_powerline(signal: np.ndarray, fs: float) -> np.ndarray:
    """Notch out 50 and 60 Hz (whichever lie below Nyquist), zero phase."""
    for hz in POWERLINE_HZ:
        if hz < 0.45 * fs:
            b, a = sps.iirnotch(hz, Q=30.0, fs=fs)
            signal = sps.filtfilt(b, a, signal, axis=-1)
    return signal


def to_analysis_rate(signal: np.ndarray, fs: float) -> tuple[np.ndarray, float]:
    """Resample (polyphase, anti-aliased) to `ANALYSIS_FS` when ``fs`` is higher; slower signals are kept."""
    if fs <= ANALYSIS_FS:
        return signal, fs
    ratio = Fraction(ANALYSIS_FS / fs).limit_denominator(1000)
    resampled = sps.resample_poly(signal, ratio.numerator, ratio.denominator, axis=-1)
    return resampled, fs * ratio.numerator / ratio.denominator


def isoelectric_baseline(signal: np.ndarray, fs: float, qrs_onsets: np.ndarray) -> np.ndarray:
    """Baseline through each beat's PR segment (the 10 ms before QRS onset), shape of ``signal``.

    The level just before every QRS is the electrically silent reference; a monotone cubic (PCHIP)
    through those levels removes the wander a high-pass filter leaves, as electrocardiographs do.
    Constant beyond the first and last beat. Onsets in any order, repeats too (two beats aligned onto one QRS).
    """
    width = max(1, int(0.01 * fs))
    knots = np.unique(qrs_onsets[(qrs_onsets >= width) & (qrs_onsets < signal.shape[-1])])  # PCHIP: increasing
    if knots.size == 0:
        return np.zeros_like(signal)
    levels = np.stack([signal[..., knot - width:knot].mean(axis=-1) for knot in knots], axis=-1)
    if knots.size == 1:
        return np.broadcast_to(levels, signal.shape).copy()
    samples = np.clip(np.arange(signal.shape[-1]), knots[0], knots[-1])
    return PchipInterpolator(knots, levels, axis=-1)(samples)
