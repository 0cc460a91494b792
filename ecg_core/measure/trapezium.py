"""The trapezium-area method for wave boundaries (Vázquez-Seisdedos et al., 2011): no amplitude threshold,
robust to noise. Used for the QRS knees, the P wave's onset and offset, and the end of the T wave."""

from __future__ import annotations

import numpy as np


def trapezium_boundary(curve: np.ndarray, peak: int, reference: int) -> int | None:
    """Where a wave of ``curve`` (≥ 0, highest at ``peak``) ends on its way towards ``reference``.

    Trapezium-area method: from the steepest point x_m between the peak and the reference x_r, the
    boundary is the x_i maximising (y_m - y_i)(|x_r - x_m| + |x_r - x_i|), the area of the trapezium
    under the tangent-free chord. Works in both directions (``reference`` before ``peak`` for onsets).
    """
    step = 1 if reference > peak else -1
    span = np.arange(peak, reference + step, step)
    if span.size < 3:
        return None
    values = curve[span]
    steepest = int(np.argmin(np.diff(values)))  # largest fall away from the peak
    y_m = values[steepest]
    distance_from_ref = np.abs(span[steepest:] - reference)
    area = (y_m - values[steepest:]) * (abs(reference - span[steepest]) + distance_from_ref)
    return int(span[steepest + int(np.argmax(area))])
