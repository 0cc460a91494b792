"""The representative (median) beat: dominant beats aligned on their QRS and averaged sample by sample.

Electrocardiographs measure global intervals on such a beat, not on single noisy beats. Ectopic beats
(a different QRS shape, e.g. PVCs) are left out so the median describes the dominant rhythm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .filters import P_T_HIGH_HZ, lowpass

_ALIGN_HALF_WINDOW_S = 0.07  # a beat's fiducial point moves at most this far
_QRS_WINDOW_S = (0.06, 0.08)  # before and after the fiducial point: the part compared between beats
_MIN_CORRELATION = 0.85  # QRS shape similarity to the typical beat for a beat to count as dominant
_ALIGN_ITERATIONS = 4  # template rebuilt from the shifted beats at most this often (it settles in 2-3)
_MAX_BEATS = 200  # beats averaged at most (spread over the record); more add nothing but time


@dataclass(frozen=True)
class MedianBeat:
    """The median of the dominant beats, (n_leads, n_samples) in mV, with its fiducial at index ``fiducial``."""

    waveform: np.ndarray
    fiducial: int  # sample of the QRS fiducial point (peak spatial velocity)
    fs: float
    n_beats: int  # dominant beats averaged
    noise_mv: np.ndarray  # per lead: standard deviation of single beats around the median (robust), in the
    # band the P and T waves are found in (broadband noise above it does not hide them)
    single_beats_mv: np.ndarray | None = None  # every beat given, (n_beats, n_leads, n_samples), in that band too;
    # NaN where a beat's window runs past the signal (the median takes whole beats only)

    @property
    def median_noise_mv(self) -> np.ndarray:
        """Per lead: the expected noise left in the median itself (≈ 1.25 σ / √n for a median)."""
        return 1.25 * self.noise_mv / np.sqrt(max(self.n_beats, 1))


def spatial_velocity(waveforms: np.ndarray, fs: float) -> np.ndarray:
    """Slope magnitude over all leads, sqrt(Σ (dx/dt)²) in mV/s; same length as the input (last axis)."""
    slope = np.gradient(waveforms, axis=-1) * fs
    return np.sqrt(np.sum(slope ** 2, axis=0)) if waveforms.ndim > 1 else np.abs(slope)


def beat_window_s(median_rr_s: float) -> tuple[float, float]:
    """(before, after) in s around a beat's fiducial point: its own waves, short of the neighbouring
    beats' QRS at a median RR interval of ``median_rr_s`` s. Before it, three quarters of the RR interval: back
    to the previous beat's ST segment, so that a long PR at a fast rate has its P onset in the beat."""
    return min(0.5, 0.75 * median_rr_s), min(0.7, 0.95 * median_rr_s)  # 0.5 s: room for a PR of 400 ms


def align_to_template(filtered: np.ndarray, fs: float, beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fiducials, dominant): each beat moved onto the typical QRS, and whether its QRS has the typical shape.

    A peak-picking fiducial can jump between two peaks of one QRS (two peaks of the slope ~12 ms apart),
    which smears the median beat. Instead every beat is shifted to the lag (within ±70 ms) where its QRS,
    over all leads at once, correlates best with a template; the template is the median of the dominant
    beats and is rebuilt from the shifted beats until no beat moves. Dominant beats are then chosen by
    shape (correlation) and size on the aligned beats. Finally all fiducials move together to the
    template's peak spatial velocity, so the fiducial is the QRS centre. Beats too close to the edges
    to compare keep their place and are not dominant. Both arrays have the order of ``beats``.
    """
    beats = np.asarray(beats, dtype=np.int64)
    before, after = (int(s * fs) for s in _QRS_WINDOW_S)
    half = int(_ALIGN_HALF_WINDOW_S * fs)
    fiducials = beats.copy()
    dominant = np.zeros(beats.size, dtype=bool)
    inside = (beats >= before + half) & (beats + after + half < filtered.shape[1])
    if inside.sum() < 2:
        return fiducials, inside
    positions = beats[inside]
    lags = np.arange(-half, half + 1)
    window = np.arange(-before, after + 1)
    # (beats, lags, leads, samples) would be large: correlate lead by lead and sum
    correlation = np.zeros((positions.size, lags.size))
    shift = np.zeros(positions.size, dtype=np.int64)
    chosen = np.ones(positions.size, dtype=bool)
    for _ in range(_ALIGN_ITERATIONS):
        segments = _segments(filtered, positions + shift, before, after)
        template = np.median(segments[chosen], axis=0)
        template = template - template.mean(axis=1, keepdims=True)
        correlation[:] = 0.0
        energy = np.zeros((positions.size, lags.size))
        for lead, lead_template in zip(filtered, template):
            stretch = lead[positions[:, None, None] + lags[None, :, None] + window[None, None, :]]
            stretch = stretch - stretch.mean(axis=2, keepdims=True)
            correlation += stretch @ lead_template
            energy += np.sum(stretch ** 2, axis=2)
        correlation /= np.sqrt(energy) * (np.linalg.norm(template) or 1.0) + 1e-12
        best = np.argmax(correlation, axis=1)
        new_shift = lags[best]
        best_correlation = correlation[np.arange(positions.size), best]
        size = np.sqrt(energy[np.arange(positions.size), best]) / (np.linalg.norm(template) or 1.0)
        chosen = (best_correlation >= _MIN_CORRELATION) & (size > 0.6) & (size < 1.6)
        if not chosen.any():
            chosen = best_correlation >= np.median(best_correlation)
        if np.array_equal(new_shift, shift):
            break
        shift = new_shift
    velocity = spatial_velocity(np.median(_segments(filtered, positions + shift, before, after)[chosen], axis=0), fs)
    centre = int(np.argmax(velocity)) - before  # the template's QRS centre, relative to the current fiducial
    fiducials[inside] = np.clip(positions + shift + centre, 0, filtered.shape[1] - 1)
    dominant[inside] = (best_correlation >= _MIN_CORRELATION) & (size > 0.6) & (size < 1.6)
    return fiducials, dominant


def dominant_mask(filtered: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """True for beats whose multi-lead QRS, once aligned, matches the typical QRS (shape and size)."""
    return align_to_template(filtered, fs, beats)[1]


def median_beat(filtered: np.ndarray, fs: float, fiducials: np.ndarray, before_s: float,
                after_s: float) -> MedianBeat | None:
    """Median of the beats at ``fiducials`` over [-before_s, +after_s]; None when no beat fits."""
    before, after = int(before_s * fs), int(after_s * fs)
    fits = fiducials[(fiducials >= before) & (fiducials + after < filtered.shape[1])]
    if fits.size == 0:
        return None
    if fits.size > _MAX_BEATS:
        fits = fits[np.linspace(0, fits.size - 1, _MAX_BEATS).astype(int)]
    beats = _segments(filtered, fits, before, after)  # (n_beats, n_leads, n_samples)
    waveform = np.median(beats, axis=0)
    if fits.size > 2:
        noise = 1.4826 * np.median(np.abs(lowpass(beats - waveform, fs, P_T_HIGH_HZ)), axis=(0, 2))
    else:
        noise = np.zeros(len(waveform))
    single_beats = _segments(np.pad(lowpass(filtered, fs, P_T_HIGH_HZ), ((0, 0), (before, after)),
                                    constant_values=np.nan), fiducials + before, before, after)
    return MedianBeat(waveform, before, fs, int(fits.size), noise, single_beats)


def _segments(filtered: np.ndarray, centres: np.ndarray, before: int, after: int) -> np.ndarray:
    index = centres[:, None] + np.arange(-before, after + 1)
    return np.transpose(filtered[:, index], (1, 0, 2))
