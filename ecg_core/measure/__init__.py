"""Physiological measurements from the raw signal: rate, intervals, axes, rhythm regularity."""

from .beats import qrs_durations_ms
from .core import MEASUREMENT_KEYS, measure
from .rpeaks import detect_r_peaks

__all__ = ["MEASUREMENT_KEYS", "detect_r_peaks", "measure", "qrs_durations_ms"]
