"""QRS duration of every single beat, by the rule `measure` applies to the median beat.

The median beat describes the dominant rhythm and leaves ectopic beats out by design; a per-beat width
tells a wide premature ventricular beat from its narrow neighbours. Each beat is delineated on its own
stretch of the filtered signal with `qrs.qrs_bounds`, over all leads at once (earliest onset to
latest offset), as the median beat is, but at 0.5-40 Hz and without moving the boundaries out to the
slope's knees: a single beat has none of the median's averaging to tame the noise. Baseline wander hardly changes a slope, so the median beat's
second, baseline-corrected pass is not needed here.
"""

from __future__ import annotations

import numpy as np

from .core import validate_signal
from .qrs import qrs_bounds
from .filters import bandpass, remove_powerline, to_analysis_rate
from .template import beat_window_s, spatial_velocity

_DEFAULT_RR_S = 1.0  # assumed RR interval (60 bpm) when a single beat gives none


def qrs_durations_ms(signal, fs: float, beats) -> np.ndarray:
    """QRS duration (ms) of each beat, float64 array of len(beats); NaN where a beat has no clear QRS.

    ``signal`` is (n_leads, n_samples) in mV (a 1-D array is one lead), ``fs`` in Hz, ``beats`` the
    sample index of each beat's QRS (e.g. `detect_r_peaks`) in ``signal``'s own sampling. A beat is NaN
    when the slope near it does not rise clearly above its quiet level (a flat or noise-only stretch).
    A malformed signal raises `InputError` naming ``inputs.signal``; beats outside the signal raise
    ValueError (they come from code, not from clients).
    """
    signal, _ = validate_signal(signal, fs)
    beats = np.asarray(beats, dtype=np.int64).reshape(-1)
    if beats.size and (beats.min() < 0 or beats.max() >= signal.shape[1]):
        raise ValueError(f"beat samples must lie in [0, {signal.shape[1]}), got {beats.min()}..{beats.max()}")
    analysed, rate = to_analysis_rate(signal, fs)
    velocity = spatial_velocity(bandpass(remove_powerline(analysed, rate), rate), rate)
    centres = np.minimum(np.round(beats * rate / fs).astype(np.int64), velocity.size - 1)
    rr_s = float(np.median(np.diff(np.sort(centres)))) / rate if centres.size > 1 else _DEFAULT_RR_S
    before, after = (int(seconds * rate) for seconds in beat_window_s(rr_s))
    durations = np.full(centres.size, np.nan)
    for index, centre in enumerate(centres):
        start = max(0, centre - before)
        bounds = qrs_bounds(velocity[start:centre + after + 1], rate, int(centre - start))
        if bounds is not None:
            durations[index] = (bounds[1] - bounds[0]) * 1000.0 / rate
    return durations
