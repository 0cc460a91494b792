"""The representative (median) beat: dominant beats aligned on their QRS and averaged sample by sample.

Electrocardiographs measure global intervals on such a beat, not on single noisy beats. Ectopic beats
(a different QRS shape, e.g. PVCs) are left out so the median describes the dominant rhythm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_ALIGN_HALF_WINDOW_S = 0.07  # a beat's fiducial point moves at most this far
_QRS_WINDOW_S = (0.06, 0.08)  # before and after the fiducial point: the part compared between beats
_MIN_CORRELATION = 0.85  # QRS shape similarity to the typical beat for a beat to count as dominant
_MAX_BEATS = 200  # beats averaged at most (spread over the record); more add nothing but time


@dataclass(frozen=True)
class MedianBeat:
    """The median of the dominant beats, (n_leads, n_samples) in mV, with its fiducial at index ``fiducial``."""

    waveform: np.ndarray
    fiducial: int  # sample of the QRS fiducial point (peak spatial velocity)
    fs: float
    n_beats: int  # dominant beats averaged
    noise_mv: np.ndarray  # per lead: standard deviation of single beats around the median (robust)

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
    beats' QRS at a median RR interval of ``median_rr_s`` s."""
    return min(0.45, 0.6 * median_rr_s), min(0.7, 0.95 * median_rr_s)


def align_beats(filtered: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """Move each beat to the peak of the (smoothed) spatial velocity nearby: one common fiducial point."""
    velocity = spatial_velocity(filtered, fs)
    width = max(1, int(0.02 * fs))
    velocity = np.convolve(velocity, np.ones(width) / width, mode="same")
    half = int(_ALIGN_HALF_WINDOW_S * fs)
    offsets = np.arange(-half, half + 1)
    index = np.clip(beats[:, None] + offsets, 0, velocity.size - 1)
    return np.unique(index[np.arange(len(beats)), np.argmax(velocity[index], axis=1)])


def dominant_mask(filtered: np.ndarray, fs: float, fiducials: np.ndarray) -> np.ndarray:
    """True for beats whose multi-lead QRS matches the typical QRS (correlation and size)."""
    before, after = (int(s * fs) for s in _QRS_WINDOW_S)
    inside = (fiducials >= before) & (fiducials + after < filtered.shape[1])
    mask = np.zeros(len(fiducials), dtype=bool)
    if inside.sum() < 2:
        return inside
    segments = _segments(filtered, fiducials[inside], before, after).reshape(int(inside.sum()), -1)
    segments = segments - segments.mean(axis=1, keepdims=True)
    typical = np.median(segments, axis=0)
    norms = np.linalg.norm(segments, axis=1) * (np.linalg.norm(typical) or 1.0)
    correlation = segments @ typical / np.where(norms > 0, norms, 1.0)
    size = np.linalg.norm(segments, axis=1) / (np.linalg.norm(typical) or 1.0)
    mask[inside] = (correlation >= _MIN_CORRELATION) & (size > 0.6) & (size < 1.6)
    return mask


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
    noise = 1.4826 * np.median(np.abs(beats - waveform), axis=(0, 2)) if fits.size > 2 else np.zeros(len(waveform))
    return MedianBeat(waveform, before, fs, int(fits.size), noise)


def _segments(filtered: np.ndarray, centres: np.ndarray, before: int, after: int) -> np.ndarray:
    index = centres[:, None] + np.arange(-before, after + 1)
    return np.transpose(filtered[:, index], (1, 0, 2))
