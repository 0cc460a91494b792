"""12-lead paper ECG rendering. Not implemented yet (issue 5)."""

from .errors import ModelNotConfigured


def render_ecg(recording):
    raise ModelNotConfigured("ECG rendering is not available on this endpoint yet")
