"""Which leads the measurements use: not a flat one, and not one whose electrode adds far more noise than the rest.

Global boundaries come from all leads at once (spatial velocity and magnitude), so one loose electrode's
noise reaches every interval: on LUDB, 0.2 mV of noise in V3 alone put the QRS out of 15 ms of the clean
recording's on 31 of 100 records (`bench/eval_robustness.py`). Carts leave such a lead out of the global measurement; so does this.
"""

from __future__ import annotations

import numpy as np

from .filters import bandpass, highpass, remove_powerline

FLAT_MV = 0.02  # a lead whose band-passed peak-to-peak is below this carries no ECG
_NOISE_HIGH_PASS_HZ = 40.0  # broadband noise is what lies above the ECG's band ...
_NOISY_FACTOR = 5.0  # ... and a lead with this many times the leads' median of it ...
_NOISY_MV = 0.03  # ... and this much (RMS) is left out (LUDB's clean leads: at most 3.2 times, 39 µV)


def broadband_noise_mv(signal: np.ndarray, fs: float) -> np.ndarray:
    """Per lead, the RMS (mV) of what lies above `_NOISE_HIGH_PASS_HZ`, hum removed, estimated from the median
    absolute value so the QRS complexes, a tenth of the time, do not count as noise."""
    above = highpass(remove_powerline(signal, fs), fs, min(_NOISE_HIGH_PASS_HZ, 0.4 * fs))
    return 1.4826 * np.median(np.abs(above), axis=-1)


def select_leads(signal: np.ndarray, fs: float, labels: list[str]) -> tuple[np.ndarray, dict[str, str]]:
    """(mask of the leads to measure, {label: why a lead is left out}) for a (n_leads, n_samples) mV recording
    whose rows are named by ``labels``. A lead is left out when flat (`FLAT_MV`), or when its broadband noise
    is `_NOISY_FACTOR` times the median over the live leads and at least `_NOISY_MV`: noise the whole
    recording shares (a tense patient) leaves every lead in."""
    live = np.ptp(bandpass(signal, fs), axis=1) >= FLAT_MV
    left_out = {labels[i]: f"flat: varies by less than {FLAT_MV} mV" for i in np.flatnonzero(~live)}
    if live.sum() < 3:  # too few leads to say which is the odd one out
        return live, left_out
    noise = broadband_noise_mv(signal, fs)
    typical = float(np.median(noise[live]))
    noisy = live & (noise >= _NOISY_FACTOR * typical) & (noise >= _NOISY_MV)
    for i in np.flatnonzero(noisy):
        left_out[labels[i]] = (f"noisy: {noise[i]:.2f} mV RMS of broadband noise, {noise[i] / typical:.0f} times "
                               "the other leads' (a loose electrode?)")
    return live & ~noisy, left_out
