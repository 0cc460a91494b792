"""The recording's bandwidth: the filters its file states, the sampling rate's limit, and what the signal shows.

A monitor's 40 Hz or a display's 25-35 Hz low-pass filter changes what is measured: on LUDB's unpaced records
low-passed to 40 Hz, R amplitudes read 7 % lower (16 % at the 5th percentile), at 25 Hz 20 % lower with the QRS
12 ms longer; pacemaker spikes (under a millisecond wide) are lost at 100 Hz on three of LUDB's five paced
records whose spikes are found, and at 60 Hz on all (`bench/eval_bandwidth.py`). Diagnostic electrocardiographs
record 0.05-150 Hz (IEC 60601-2-25; AHA 2007: a high-pass above 0.05 Hz only with phase correction, and never
above 0.67 Hz).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal as sps

from .filters import POWERLINE_HZ

DIAGNOSTIC_LOWPASS_HZ = 150.0  # the upper edge diagnostic ECGs are recorded with
NARROW_LOWPASS_HZ = 100.0  # below this a low-pass filter lowers QRS amplitudes and removes pacing spikes
MAX_HIGHPASS_HZ = 0.67  # above this even a phase-corrected high-pass distorts the ST segment and T wave
# above this a high-pass without phase correction shortens QT (on LUDB, order 2 causal: 0.16 Hz -8 ms median,
# 0.32 Hz -24 ms, 0.5 Hz -39 ms; `bench/eval_bandwidth.py`); a file does not say whether its filter is
CAUSAL_HIGHPASS_HZ = 0.3
# Content: power 60-100 Hz over power 10-25 Hz (median over each band's 1 Hz bins, then over the leads).
_CONTENT_BAND_HZ = (60.0, 100.0)
_REFERENCE_BAND_HZ = (10.0, 25.0)
_MAINS_MARGIN_HZ = 3.0  # bins this close to a mains harmonic are left out of the bands
_CONTENT_MAX_S = 30.0  # a filter acts on the whole recording alike: 30 one-second segments are enough to see it
# Below this the recording looks low-pass filtered. LUDB DEV's unpaced records: -17 to -33 dB as recorded,
# -43 to -59 dB low-passed to 40 Hz (order 2, zero phase); the threshold leaves 5 dB to the unfiltered ones.
LOW_CONTENT_DB = -38.0
_STATED_RANGES_HZ = {"highpass_hz": (0.0, 10.0), "lowpass_hz": (5.0, 10_000.0), "notch_hz": (40.0, 70.0)}


@dataclass(frozen=True)
class StatedFilters:
    """The filters a file says the recording went through (Hz; None where it says nothing)."""

    highpass_hz: float | None = None
    lowpass_hz: float | None = None
    notch_hz: float | None = None

    @classmethod
    def from_values(cls, highpass_hz=None, lowpass_hz=None, notch_hz=None) -> StatedFilters | None:
        """Plausible values only (a cut-off of 0 or 1e6 Hz is a file's "not set"); None when none is left."""
        values = {}
        for name, value in (("highpass_hz", highpass_hz), ("lowpass_hz", lowpass_hz), ("notch_hz", notch_hz)):
            low, high = _STATED_RANGES_HZ[name]
            number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
            values[name] = number if low < number <= high else None
        return cls(**values) if any(value is not None for value in values.values()) else None


def high_frequency_content_db(signal: np.ndarray, fs: float) -> float | None:
    """Power between 60 and 100 Hz relative to 10-25 Hz (dB, median over the leads of a (n_leads, n) mV array,
    over its first 30 s); None when the sampling rate leaves no room above 60 Hz or the signal is too short or
    flat."""
    top_hz = min(_CONTENT_BAND_HZ[1], 0.4 * fs)
    if top_hz < _CONTENT_BAND_HZ[0] + 5 or signal.shape[-1] < 2 * fs:
        return None
    frequencies, power = sps.welch(signal[..., :int(_CONTENT_MAX_S * fs)], fs, nperseg=int(fs), axis=-1)  # 1 Hz bins
    mains = np.zeros(frequencies.size, dtype=bool)
    for hz in POWERLINE_HZ:
        harmonics = np.arange(hz, frequencies[-1] + hz, hz)
        mains |= np.min(np.abs(frequencies[:, None] - harmonics[None, :]), axis=1) <= _MAINS_MARGIN_HZ
    content = (frequencies >= _CONTENT_BAND_HZ[0]) & (frequencies <= top_hz) & ~mains
    reference = (frequencies >= _REFERENCE_BAND_HZ[0]) & (frequencies <= _REFERENCE_BAND_HZ[1])
    reference_power = np.median(power[:, reference], axis=1)
    live = reference_power > 0
    if not live.any():
        return None
    ratio = np.median(power[live][:, content], axis=1) / reference_power[live]
    return round(float(np.median(10 * np.log10(np.maximum(ratio, 1e-30)))), 1)


def describe_bandwidth(signal: np.ndarray | None, fs: float, stated: StatedFilters | None,
                       pacing_found: bool) -> dict:
    """{"stated", "upper_limit_hz", "high_frequency_content_db", "looks_low_pass_filtered", "limits"}.

    ``upper_limit_hz`` is the stated low-pass or half the sampling rate, whichever is lower; ``limits`` says,
    in words, what the bandwidth does to the measurements (empty for a diagnostic recording). ``signal``: the
    leads measured (None when none is); ``pacing_found``: whether pacing spikes were found (a narrow filter
    removes them, so their absence then rules nothing out).
    """
    content_db = None if signal is None else high_frequency_content_db(signal, fs)
    looks_filtered = None if content_db is None else content_db < LOW_CONTENT_DB
    stated_lowpass = stated.lowpass_hz if stated else None
    stated_highpass = stated.highpass_hz if stated else None
    upper_hz = min(hz for hz in (stated_lowpass, fs / 2) if hz is not None)
    below_diagnostic = stated_lowpass is not None and stated_lowpass < DIAGNOSTIC_LOWPASS_HZ
    limits = []
    if below_diagnostic:
        limits.append(f"the file states a {stated_lowpass:g} Hz low-pass filter, below the "
                      f"{DIAGNOSTIC_LOWPASS_HZ:g} Hz of a diagnostic ECG")
    if fs / 2 < NARROW_LOWPASS_HZ:
        limits.append(f"sampled at {fs:g} Hz: nothing above {fs / 2:g} Hz is recorded")
    if looks_filtered and upper_hz >= NARROW_LOWPASS_HZ:  # a narrow stated band or rate already explains it
        limits.append(f"little signal above {_CONTENT_BAND_HZ[0]:g} Hz ({content_db:g} dB of the "
                      f"{_REFERENCE_BAND_HZ[0]:g}-{_REFERENCE_BAND_HZ[1]:g} Hz band): the recording looks "
                      "low-pass filtered, as by a monitor's 40 Hz filter")
    narrow = upper_hz < NARROW_LOWPASS_HZ or bool(looks_filtered)
    if narrow:
        limits.append("at this bandwidth R and S amplitudes read lower (voltage criteria may be missed) "
                      "and a QRS reads longer")
    if not pacing_found and (narrow or below_diagnostic):
        limits.append("pacemaker spikes do not pass such a filter: that none was found does not rule out pacing")
    if stated_highpass is not None and stated_highpass > MAX_HIGHPASS_HZ:
        limits.append(f"the file states a {stated_highpass:g} Hz high-pass filter, above the "
                      f"{MAX_HIGHPASS_HZ:g} Hz a diagnostic ECG allows: the ST segment and T wave are distorted "
                      "and QT may read short")
    elif stated_highpass is not None and stated_highpass > CAUSAL_HIGHPASS_HZ:
        limits.append(f"the file states a {stated_highpass:g} Hz high-pass filter: unless it is phase-corrected, "
                      "the ST segment and T wave are distorted and QT may read short")
    return {"stated": asdict(stated) if stated else None, "upper_limit_hz": round(upper_hz, 1),
            "high_frequency_content_db": content_db, "looks_low_pass_filtered": looks_filtered, "limits": limits}
