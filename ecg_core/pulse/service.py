"""PULSE-7B serving. Not implemented yet (issue 5)."""

from ..errors import ModelNotConfigured

PARAMETER_NAMES: frozenset[str] = frozenset()


def parse_generation_params(parameters: dict):
    return dict(parameters)


def build_service(settings):
    raise ModelNotConfigured("PULSE-7B is not configured on this endpoint yet")
