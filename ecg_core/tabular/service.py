"""Tabular model serving. Not implemented yet (issue 6)."""

from ..errors import ModelNotConfigured


def build_service(settings):
    raise ModelNotConfigured("tabular models are not configured on this endpoint yet")
