"""The median beat as a result field (``median_beat``), for clients that draw it with its boundaries."""

from __future__ import annotations

import numpy as np

from .core import MedianBeatView

_FIDUCIALS = (("p_onset", "p_on"), ("p_offset", "p_off"), ("qrs_onset", "qrs_on"), ("qrs_offset", "qrs_off"),
              ("t_offset", "t_end"))


def median_beat_payload(view: MedianBeatView) -> dict:
    """{"fs", "lead_names", "signal" (leads × samples, mV, the PR segment at 0), "fiducials_ms", "n_beats"}.

    ``fiducials_ms`` are the boundaries in ms from the beat's first sample (None where not found); the
    leads are those the measurements used (flat leads are left out), so ``lead_names`` names each row
    (None when the request named no leads).
    """
    beat, bounds = view.beat, view.bounds
    waveform = beat.waveform
    if bounds.baseline_mv is not None:
        waveform = waveform - bounds.baseline_mv[:, None]
    ms = 1000.0 / beat.fs
    return {
        "fs": beat.fs,
        "lead_names": list(view.lead_names) if view.lead_names else None,
        "signal": np.round(waveform, 4).tolist(),
        "fiducials_ms": {name: (round(getattr(bounds, attribute) * ms, 1)
                                if getattr(bounds, attribute) is not None else None)
                         for name, attribute in _FIDUCIALS},
        "n_beats": beat.n_beats,
    }
