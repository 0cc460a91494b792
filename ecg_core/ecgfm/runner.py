"""Serving wrapper around ECG-FM: preprocessing, batching, thresholds. Not implemented yet (issue 3)."""

from ..errors import ModelNotConfigured


def build_runner(settings):
    raise ModelNotConfigured("ECG-FM is not configured on this endpoint yet")
