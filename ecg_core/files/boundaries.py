"""A cart's global intervals from the wave boundaries it stored for its reference beat (SCP-ECG section 7).

SCP-ECG stores where the reference beat's P wave, QRS complex and T wave begin and end (ms from the beat's
start) rather than PR, QRS and QT; ecgdatakit reports the boundaries as stored. The intervals are the
differences carts print: PR = QRS onset − P onset, QRS = offset − onset, QT = T offset − QRS onset.
"""

from __future__ import annotations

_NOT_MEASURED = (0, 29999, 0xFFFF)  # SCP-ECG's "undefined" (and an unset field)
# An interval outside these (ms) means a boundary was not really measured: the cart's value is not read.
_PLAUSIBLE_MS = {"pr_interval": (60, 600), "p_duration": (20, 300), "qrs_duration": (30, 300),
                 "qt_interval": (150, 800)}


def reference_beat_intervals(raw_metadata: dict) -> dict[str, int]:
    """PR, P duration, QRS and QT (ms) from an SCP file's first measurement block, those the cart measured."""
    blocks = raw_metadata.get("measurement_blocks")
    if not isinstance(blocks, list) or not blocks or not isinstance(blocks[0], dict):
        return {}
    beat_ms = raw_metadata.get("reference_beat_length_ms")
    bound = {name: _boundary(blocks[0].get(name), beat_ms)
             for name in ("p_onset", "p_offset", "qrs_onset", "qrs_offset", "t_offset")}
    spans = {"pr_interval": ("p_onset", "qrs_onset"), "p_duration": ("p_onset", "p_offset"),
             "qrs_duration": ("qrs_onset", "qrs_offset"), "qt_interval": ("qrs_onset", "t_offset")}
    intervals = {}
    for key, (start, end) in spans.items():
        if bound[start] is not None and bound[end] is not None:
            low, high = _PLAUSIBLE_MS[key]
            if low <= bound[end] - bound[start] <= high:
                intervals[key] = bound[end] - bound[start]
    return intervals


def _boundary(value, beat_ms) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or value in _NOT_MEASURED or value < 0:
        return None
    if isinstance(beat_ms, int) and beat_ms > 0 and value > beat_ms:
        return None  # beyond the end of the stored beat: not a boundary in it
    return value
