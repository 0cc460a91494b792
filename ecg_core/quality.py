"""Signal quality assessment. Not implemented yet (issue 4)."""

from .errors import ModelNotConfigured


def assess(signal, fs, lead_names=None):
    raise ModelNotConfigured("signal quality assessment is not available on this endpoint yet")
