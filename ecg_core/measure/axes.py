"""Frontal-plane electrical axes from the net areas of a wave in the limb leads.

Each limb lead records the projection of the frontal heart vector (x to the patient's left, y
inferior) on its own direction, with Einthoven's gains: 1 for I, II, III and sqrt(3)/2 for the
augmented leads (aVF = II - I/2 = (sqrt(3)/2) y). The vector is fitted by least squares to whichever
limb leads are present, so I and aVF, or any two other limb leads, are enough.
"""

from __future__ import annotations

import math

import numpy as np

_HALF_SQRT3 = math.sqrt(3) / 2
LIMB_LEAD_VECTORS = {
    "I": (1.0, 0.0),
    "II": (0.5, _HALF_SQRT3),
    "III": (-0.5, _HALF_SQRT3),
    "aVR": (-0.75, -_HALF_SQRT3 / 2),
    "aVL": (0.75, -_HALF_SQRT3 / 2),
    "aVF": (0.0, _HALF_SQRT3),
}


def frontal_axis_deg(net_areas: dict[str, float], min_magnitude: float = 0.0) -> float | None:
    """Axis in degrees (-180, 180] from net wave areas (mV·s) keyed by limb lead name.

    None when fewer than two limb leads are given or the fitted vector is smaller than ``min_magnitude``
    (a wave with no net frontal direction has no axis).
    """
    names = [name for name in net_areas if name in LIMB_LEAD_VECTORS]
    if len(names) < 2:
        return None
    directions = np.array([LIMB_LEAD_VECTORS[name] for name in names])
    areas = np.array([net_areas[name] for name in names])
    (x, y), *_ = np.linalg.lstsq(directions, areas, rcond=None)
    if math.hypot(x, y) <= min_magnitude:
        return None
    return round(math.degrees(math.atan2(y, x)), 1)
