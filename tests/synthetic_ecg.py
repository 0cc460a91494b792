"""Synthetic 12-lead ECGs with exactly known intervals and axes, for validating measurements.

Each wave (P, Q, R, S, T) is a compact bump with a sharp start and end, so its onset and offset are
defined without ambiguity. Every wave has a direction in 3-D (x = patient's left, y = inferior,
z = anterior); a lead records the projection of that direction on its own lead vector, as in the
dipole model of the heart. Lead vectors are idealised (frontal leads at their hexaxial angles with
Einthoven's gains, so III = II - I and aVF = II - I/2 hold exactly; precordial leads fanned across the horizontal plane).
"""

from __future__ import annotations

import math

import numpy as np

LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
_FRONTAL_DEG = {"I": 0, "II": 60, "III": 120, "aVR": -150, "aVL": -30, "aVF": 90}
_AUGMENTED_GAIN = math.sqrt(3) / 2  # Einthoven: aVF = II - I/2 is sqrt(3)/2 times the projection on 90°
_PRECORDIAL_DEG = {"V1": 115, "V2": 95, "V3": 75, "V4": 55, "V5": 30, "V6": 0}  # from the left, towards anterior


def _lead_vectors() -> np.ndarray:
    vectors = []
    for name in LEAD_NAMES:
        if name in _FRONTAL_DEG:
            angle = math.radians(_FRONTAL_DEG[name])
            gain = _AUGMENTED_GAIN if name.startswith("aV") else 1.0
            vectors.append((gain * math.cos(angle), gain * math.sin(angle), 0.0))
        else:
            angle = math.radians(_PRECORDIAL_DEG[name])
            vectors.append((math.cos(angle), 0.15, math.sin(angle)))
    return np.array(vectors)


def _direction(frontal_deg: float, anterior: float) -> np.ndarray:
    angle = math.radians(frontal_deg)
    return np.array([math.cos(angle), math.sin(angle), anterior])


def _bump(t: np.ndarray, start: float, peak: float, end: float) -> np.ndarray:
    """0 outside [start, end], 1 at ``peak``; quarter-sine rise and fall (finite slope at both ends)."""
    out = np.zeros_like(t)
    rise = (t >= start) & (t < peak)
    fall = (t >= peak) & (t <= end)
    out[rise] = np.sin(0.5 * np.pi * (t[rise] - start) / (peak - start))
    out[fall] = np.cos(0.5 * np.pi * (t[fall] - peak) / (end - peak))
    return out


def qrs_axis_deg(qrs_frontal_deg: float = 50.0) -> float:
    """The true mean frontal QRS axis of `synthetic_12lead` (degrees), from its wave areas and directions."""
    total = np.zeros(3)
    for fraction, weight, direction in _qrs_lobes(qrs_frontal_deg):
        total += weight * fraction * direction  # a bump's area is proportional to its duration
    return math.degrees(math.atan2(total[1], total[0]))


def _qrs_lobes(qrs_frontal_deg: float):
    """(share of the QRS duration, amplitude in mV, direction) of the Q, R and S deflections."""
    return (
        (0.2, 0.25, _direction(qrs_frontal_deg + 150, -0.6)),  # septal Q: rightward and anterior
        (0.45, 1.4, _direction(qrs_frontal_deg, -0.9)),
        (0.35, 0.45, _direction(qrs_frontal_deg - 160, 0.7)),  # terminal S: rightward and posterior
    )


def synthetic_12lead(hr_bpm: float, pr_ms: float, qrs_ms: float, qt_ms: float, fs: float = 500,
                     duration_s: float = 10, noise_mv: float = 0.02, wander_mv: float = 0.1, seed: int = 0,
                     qrs_axis: float = 50.0, p_wave: bool = True, ventricular_spike_mv: float = 0.0,
                     spike_before_qrs_ms: float = 4.0, spike_tail_ms: float = 0.0, atrial_spike_mv: float = 0.0,
                     t_mv: float = 0.35, t_biphasic: bool = False,
                     t_notched: bool = False) -> tuple[np.ndarray, tuple[str, ...]]:
    """A 12-lead sinus-rhythm ECG in mV, shape (12, duration_s * fs), and its lead names.

    Intervals are exact in the noise-free signal: PR from P onset to QRS onset, QRS from Q onset to S
    end, QT from QRS onset to T end (ms). P lasts min(110, PR - 40) ms. ``noise_mv`` is the SD of white
    noise, ``wander_mv`` the amplitude of a slow (0.15-0.4 Hz) baseline wander per lead. Beat-to-beat
    RR varies by about 1 % (seeded). ``p_wave=False`` leaves the P waves out (as in a junctional rhythm).
    ``ventricular_spike_mv`` adds a unipolar pacemaker spike that tall, 1 ms wide and of one polarity in
    every lead (as a 500 Hz cart records it: one or two samples), ``spike_before_qrs_ms`` before each QRS
    onset (negative: inside the QRS, as in a fusion beat); ``spike_tail_ms`` > 0 gives it the exponential
    decay of that time constant that follows a real one through a cart's input stage (LUDB's paced records
    show one of about 5 ms). ``atrial_spike_mv`` adds such a spike 10 ms before each P onset (atrial pacing). ``t_mv``
    scales the T wave (0.35: its usual size; 0.05-0.1: a flat T); ``t_biphasic`` makes it two lobes of the same size
    whose directions differ by 140° (positive then negative in most leads), the second ending at the T end;
    ``t_notched`` two humps pointing the same way (a bifid T, as in long QT type 2), the second a fifth taller and
    ending at the T end, the curve dipping by about a sixth between them.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * fs))) / fs
    signal = np.zeros((len(LEAD_NAMES), t.size))
    rr_s = 60.0 / hr_bpm
    onset = 0.4 + rng.uniform(0, rr_s)  # first QRS onset
    while onset + qt_ms / 1000 < duration_s:
        _add_beat(signal, t, onset, pr_ms / 1000 if p_wave else None, qrs_ms / 1000, qt_ms / 1000, qrs_axis,
                  t_mv, t_biphasic, t_notched)
        if ventricular_spike_mv:
            _add_spike(signal, t, onset - spike_before_qrs_ms / 1000, ventricular_spike_mv, spike_tail_ms, fs)
        if atrial_spike_mv and p_wave:
            _add_spike(signal, t, onset - pr_ms / 1000 - 0.01, atrial_spike_mv, spike_tail_ms, fs)
        onset += rr_s * (1 + 0.01 * rng.standard_normal())
    return _add_noise(signal, t, noise_mv, wander_mv, rng), LEAD_NAMES


def synthetic_af_12lead(hr_bpm: float, qrs_ms: float = 90, qt_ms: float = 360, fs: float = 500,
                        duration_s: float = 10, f_wave_mv: float = 0.08, noise_mv: float = 0.02,
                        wander_mv: float = 0.1, seed: int = 0) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """A 12-lead atrial-fibrillation ECG in mV: (signal, lead names, QRS onsets in s).

    No P waves; RR intervals irregularly irregular (independent draws, gamma-distributed with a 25 %
    coefficient of variation around 60 / ``hr_bpm`` s, none shorter than QT + 80 ms); fibrillatory
    f-waves of about ``f_wave_mv`` peak amplitude at 5-8 Hz (300-480 /min) whose frequency, size and
    direction wander, strongest in the inferior leads and V1 as in life.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * fs))) / fs
    signal = np.zeros((len(LEAD_NAMES), t.size))
    mean_rr_s, qrs, qt = 60.0 / hr_bpm, qrs_ms / 1000, qt_ms / 1000
    onsets = []
    onset = 0.3 + rng.uniform(0, mean_rr_s)
    while onset + qt < duration_s:
        _add_beat(signal, t, onset, None, qrs, qt, 50.0)
        onsets.append(onset)
        onset += max(qt + 0.08, rng.gamma(16.0, mean_rr_s / 16.0))  # shape 16: CV 1/sqrt(16) = 25 %
    # f-waves: frequency wandering between 5 and 8 Hz, amplitude modulated, atrial vector rotating slowly
    frequency = np.clip(6.5 + np.cumsum(rng.normal(0, 0.02, t.size)), 5.0, 8.0)
    phase = 2 * np.pi * np.cumsum(frequency) / fs
    envelope = f_wave_mv * (0.7 + 0.3 * np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 2 * np.pi)))
    angle = np.radians(80 + 30 * np.sin(2 * np.pi * 0.1 * t))
    atrial = np.stack([np.cos(angle), np.sin(angle), 0.8 * np.ones_like(t)])  # anterior: large in V1
    signal += (_lead_vectors() @ atrial) * (envelope * np.sin(phase))[None, :]
    return _add_noise(signal, t, noise_mv, wander_mv, rng), LEAD_NAMES, np.array(onsets)


def _add_spike(signal: np.ndarray, t: np.ndarray, spike_s: float, mv: float, tail_ms: float, fs: float) -> None:
    """A pacemaker spike ``mv`` tall and 1 ms wide at ``spike_s`` in every lead, with an exponential tail of
    time constant ``tail_ms`` (none at 0)."""
    signal[:, (t >= spike_s - 0.0005) & (t < spike_s + 0.0005 + 1 / fs)] += mv
    if tail_ms:
        after = t > spike_s + 0.0005 + 1 / fs
        signal[:, after] += mv * np.exp(-(t[after] - spike_s) / (tail_ms / 1000))


def _add_beat(signal: np.ndarray, t: np.ndarray, onset: float, pr: float | None, qrs: float, qt: float,
              qrs_axis: float, t_mv: float = 0.35, t_biphasic: bool = False, t_notched: bool = False) -> None:
    """Add one beat (s): P wave (none when ``pr`` is None), QRS and T, with the QRS starting at ``onset``."""
    leads = _lead_vectors()
    if pr is not None and onset - pr >= 0:
        p_duration = min(0.11, pr - 0.04)
        p_start = onset - pr
        signal += 0.17 * leads @ _direction(60, -0.2)[:, None] * _bump(t, p_start, p_start + 0.5 * p_duration,
                                                                         p_start + p_duration)[None, :]
    start = onset
    for fraction, amplitude, direction in _qrs_lobes(qrs_axis):
        end = start + fraction * qrs
        signal += amplitude * leads @ direction[:, None] * _bump(t, start, 0.5 * (start + end), end)[None, :]
        start = end
    t_end = onset + qt
    t_start = onset + qrs + 0.25 * (qt - qrs)
    t_direction = leads @ _direction(45, 0.3)[:, None]
    if t_biphasic:  # the T vector swings round by 140° half way: + then − in most leads
        middle = t_start + 0.55 * (t_end - t_start)
        second = leads @ _direction(45 + 140, -0.3)[:, None]
        signal += t_mv * (t_direction * _bump(t, t_start, 0.5 * (t_start + middle), middle + 0.02)[None, :]
                          + second * _bump(t, middle - 0.02, 0.5 * (middle + t_end), t_end)[None, :])
        return
    if t_notched:
        middle = t_start + 0.5 * (t_end - t_start)
        signal += t_mv * t_direction * (_bump(t, t_start, 0.5 * (t_start + middle), middle + 0.03)
                                        + 1.2 * _bump(t, middle - 0.03, 0.5 * (middle + t_end), t_end))[None, :]
        return
    t_peak = t_end - 0.3 * (qt - qrs)  # the T wave rises slowly and falls faster, as it does in life
    signal += t_mv * t_direction * _bump(t, t_start, t_peak, t_end)[None, :]


def _add_noise(signal: np.ndarray, t: np.ndarray, noise_mv: float, wander_mv: float,
               rng: np.random.Generator) -> np.ndarray:
    """White noise of SD ``noise_mv`` and a slow (0.15-0.4 Hz) wander of amplitude ``wander_mv`` per lead."""
    wander_hz = rng.uniform(0.15, 0.4, size=(signal.shape[0], 1))
    phase = rng.uniform(0, 2 * np.pi, size=(signal.shape[0], 1))
    signal += wander_mv * np.sin(2 * np.pi * wander_hz * t[None, :] + phase)
    signal += noise_mv * rng.standard_normal(signal.shape)
    return signal


def add_st_elevation(signal: np.ndarray, names: tuple[str, ...], leads: tuple[str, ...], mv: float,
                     fs: float = 500) -> np.ndarray:
    """A copy of ``signal`` with an injury current: the ST segment of ``leads`` raised by ``mv`` from 40 ms after
    each R peak of lead II, easing back to baseline by 300 ms."""
    from ecg_core.measure import detect_r_peaks

    samples = np.arange(signal.shape[1])
    elevation = np.zeros(signal.shape[1])
    for peak in detect_r_peaks(signal[names.index("II")], fs):
        start, end = peak + 0.04 * fs, peak + 0.30 * fs
        elevation = np.maximum(elevation, np.clip(np.minimum((samples - start) / (0.02 * fs),
                                                             (end - samples) / (0.08 * fs)), 0, 1))
    raised = signal.copy()
    for lead in leads:
        raised[names.index(lead)] += mv * elevation
    return raised
