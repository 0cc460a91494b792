"""Physiological measurements from the raw signal. Not implemented yet (issue 4)."""

from .errors import ModelNotConfigured


def measure(signal, fs, lead_names=None):
    raise ModelNotConfigured("measurements are not available on this endpoint yet")
