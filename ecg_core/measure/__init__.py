"""Physiological measurements from the raw signal: rate, intervals, axes, rhythm regularity."""

from .beats import qrs_durations_ms
from .core import MEASUREMENT_KEYS, Analysis, analyse, measure
from .median_output import median_beat_payload
from .rpeaks import detect_r_peaks

__all__ = ["MEASUREMENT_KEYS", "Analysis", "analyse", "detect_r_peaks", "measure", "median_beat_payload",
           "qrs_durations_ms"]
