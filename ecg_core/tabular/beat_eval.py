"""Flagged beats against cardiologists' beat annotations (MIT-BIH style): matching and precision/recall.

A detected beat is matched to the nearest annotated beat within `MATCH_S`; it is abnormal when that
annotation is not N. Used by the page's beat-anomaly view and by the MIT-BIH 100 evaluation test.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

MATCH_S = 0.075
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")  # the beat annotation codes of the MIT-BIH databases


def beat_annotations(samples, symbols) -> tuple[np.ndarray, np.ndarray]:
    """Only the beat annotations (not rhythm changes, noise marks, ...), as (samples, symbols) arrays."""
    symbols = np.asarray(symbols, dtype=str)
    is_beat = np.isin(symbols, list(BEAT_SYMBOLS))
    return np.asarray(samples)[is_beat], symbols[is_beat]


def match_beats(detected: np.ndarray, annotated: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest annotated beat, whether it lies within MATCH_S) for each detected sample."""
    nearest = np.clip(np.searchsorted(annotated, detected), 1, len(annotated) - 1)
    closer_before = np.abs(annotated[nearest - 1] - detected) < np.abs(annotated[nearest] - detected)
    nearest = np.where(closer_before, nearest - 1, nearest)
    return nearest, np.abs(annotated[nearest] - detected) <= MATCH_S * fs


def score_flags(detected: np.ndarray, flagged: np.ndarray, annotated: np.ndarray, symbols: np.ndarray,
                fs: float) -> dict:
    """Precision, recall and F1 of the flags for 'annotation is not N', over the matched detected beats."""
    nearest, matched = match_beats(detected, annotated, fs)
    abnormal = symbols[nearest] != "N"
    precision, recall, f1, _ = precision_recall_fscore_support(abnormal[matched], flagged[matched],
                                                               average="binary", zero_division=0)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1),
            "matched": int(matched.sum()), "unmatched": int((~matched).sum()),
            "abnormal": int(abnormal[matched].sum()), "flagged": int(flagged.sum()),
            "flagged_abnormal": int((flagged & abnormal)[matched].sum()),
            "pvc_flagged": bool(flagged[matched & (symbols[nearest] == "V")].all())}
