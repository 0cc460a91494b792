"""Global reference intervals of LUDB records, built from the cardiologists' per-lead wave boundaries.

LUDB annotates every P, QRS and T wave in each of the 12 leads separately (``(`` onset, peak symbol
``p``/``N``/``t``, ``)`` offset). Carts measure global intervals over all leads at once, so the reference
is built the same way, per beat: QRS onset = earliest QRS onset over the leads that annotate that beat, QRS offset = latest QRS
offset, P onset = earliest P onset, T end = latest T offset, each after dropping the single most extreme
lead (``trim=1``: one annotator's stray mark in one of 12 leads would otherwise set the global boundary;
per-lead QRS widths are 80-110 ms where the plain earliest-to-latest span is 100-130 ms). A beat's PR is
QRS onset − P onset, QT is T end − QRS onset. The record's interval reference is the
median over its annotated beats (a median beat's boundaries are those of its typical beat), its RR the
mean (as heart rate is). A beat counts only when at least half of the leads annotate its QRS (the first
and last beats are often left out).

Amplitudes: the headers' gains normalise each lead, so signals are read as digital values × 0.001 mV (in
those units the limb leads obey Einthoven's law exactly and the waves are of adult size; in the gains'
units they do not: tests/test_st_elevation_ludb.py).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
_EXTENSIONS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
_SAME_BEAT_S = 0.1  # QRS peaks of different leads within this of each other are one beat


@dataclass(frozen=True)
class LudbRecord:
    number: int
    signal: np.ndarray  # (12, n) mV (digital × 0.001)
    fs: float
    rhythm: str
    sex: str | None
    age: float | None
    paced: bool
    conduction: str  # LUDB's conduction abnormalities, one per line
    reference: dict  # pr_interval, qrs_duration, qt_interval, p_duration (ms, None: not annotated), rr_ms
    lead_waves: tuple  # per lead (LEADS order): {'p'|'N'|'t': [(onset, peak, offset), ...]} as annotated


def record_numbers(folder: Path) -> list[int]:
    return sorted(int(path.stem) for path in folder.glob("*.hea"))


def split(number: int) -> str:
    """DEV (record number ≡ 0 mod 4, used to choose thresholds) or TEST (≡ 2 mod 4, held out)."""
    return "dev" if number % 4 == 0 else "test"


def load(folder: Path, number: int, trim: int = 1) -> LudbRecord:
    import wfdb

    path = str(folder / str(number))
    record = wfdb.rdrecord(path, physical=False)
    signal = record.d_signal.T.astype(np.float64) * 0.001
    fs = float(record.fs)
    waves = [_waves(wfdb.rdann(path, extension)) for extension in _EXTENSIONS]
    info = _diagnoses(folder).get(number, {})
    age_text = info.get("Age", "").strip()
    return LudbRecord(number, signal, fs, info.get("Rhythms", "").strip(), info.get("Sex", "").strip() or None,
                      float(age_text) if age_text.replace(".", "").isdigit() else None,
                      bool(info.get("Cardiac pacing", "").strip()), info.get("Conduction abnormalities", "").strip(),
                      _reference(waves, fs, trim), tuple(waves))


def _waves(annotation) -> dict[str, list[tuple[int, int, int]]]:
    """{'p'|'N'|'t': [(onset, peak, offset), ...]} of one lead's annotation."""
    found: dict[str, list[tuple[int, int, int]]] = {"p": [], "N": [], "t": []}
    samples, symbols = list(annotation.sample), list(annotation.symbol)
    for index, symbol in enumerate(symbols):
        if symbol in found and 0 < index < len(symbols) - 1 and symbols[index - 1] == "(" and symbols[index + 1] == ")":
            found[symbol].append((int(samples[index - 1]), int(samples[index]), int(samples[index + 1])))
    return found


def _earliest(values: list[int], trim: int) -> int:
    ordered = sorted(values)
    return ordered[min(trim, len(ordered) - 1)]


def _latest(values: list[int], trim: int) -> int:
    ordered = sorted(values)
    return ordered[max(len(ordered) - 1 - trim, 0)]


def _qrs_span(waves: list[dict], centre: int, fs: float, trim: int) -> tuple[int, int]:
    """(QRS onset, QRS offset) samples of the beat whose QRS peaks near ``centre``: earliest onset and latest
    offset over the leads that annotate it, each after dropping the ``trim`` most extreme leads."""
    qrs = [wave for lead_waves in waves for wave in lead_waves["N"] if abs(wave[1] - centre) <= _SAME_BEAT_S * fs]
    return _earliest([w[0] for w in qrs], trim), _latest([w[2] for w in qrs], trim)


def qrs_span_near(record: LudbRecord, sample: int, trim: int = 1) -> tuple[int, int] | None:
    """The reference (QRS onset, QRS offset) samples of the beat at ``sample``, built as the global reference
    is; None when fewer than half of the leads annotate a QRS there."""
    leads = sum(any(abs(peak - sample) <= _SAME_BEAT_S * record.fs for _, peak, _ in waves["N"])
                for waves in record.lead_waves)
    return _qrs_span(list(record.lead_waves), sample, record.fs, trim) if 2 * leads >= len(LEADS) else None


def global_reference(record: LudbRecord, trim: int) -> dict:
    """The record's global reference intervals (as in `LudbRecord.reference`) with the ``trim`` most extreme
    leads dropped at each boundary instead of one."""
    return _reference(list(record.lead_waves), record.fs, trim)


def lead_subset_reference(record: LudbRecord, leads: tuple[str, ...], trim: int = 1) -> dict:
    """The global reference (as in `LudbRecord.reference`) from the experts' boundaries in ``leads`` alone: what a
    recording of only those leads shows (a six-lead device's limb leads)."""
    return _reference([record.lead_waves[LEADS.index(lead)] for lead in leads], record.fs, trim)


def _reference(waves: list[dict], fs: float, trim: int) -> dict:
    peaks = sorted((peak, lead) for lead, lead_waves in enumerate(waves) for _, peak, _ in lead_waves["N"])
    groups: list[list[tuple[int, int]]] = []
    for peak, lead in peaks:
        if groups and peak - groups[-1][0][0] <= _SAME_BEAT_S * fs:
            groups[-1].append((peak, lead))
        else:
            groups.append([(peak, lead)])
    per_beat: dict[str, list[float]] = {"pr_interval": [], "qrs_duration": [], "qt_interval": [], "p_duration": []}
    centres = []
    ms = 1000.0 / fs
    for group in groups:
        if 2 * len({lead for _, lead in group}) < len(waves):
            continue
        centre = int(np.median([peak for peak, _ in group]))
        centres.append(centre)
        qrs_on, qrs_off = _qrs_span(waves, centre, fs, trim)
        per_beat["qrs_duration"].append((qrs_off - qrs_on) * ms)
        # P waves ending before this QRS and within 450 ms of it; T waves starting after it, within 700 ms
        p_waves = [w for lw in waves for w in lw["p"] if w[2] <= qrs_on + 2 and qrs_on - w[0] <= 0.45 * fs]
        t_waves = [w for lw in waves for w in lw["t"] if w[0] >= qrs_off - 0.02 * fs and w[2] - qrs_on <= 0.75 * fs]
        if p_waves:
            p_on, p_off = _earliest([w[0] for w in p_waves], trim), _latest([w[2] for w in p_waves], trim)
            per_beat["pr_interval"].append((qrs_on - p_on) * ms)
            per_beat["p_duration"].append((p_off - p_on) * ms)
        if t_waves:
            per_beat["qt_interval"].append((_latest([w[2] for w in t_waves], trim) - qrs_on) * ms)
    reference = {key: round(float(np.median(values)), 1) if values else None for key, values in per_beat.items()}
    reference["rr_ms"] = round(float(np.mean(np.diff(centres))) * ms, 1) if len(centres) > 1 else None
    return reference


_DIAGNOSES: dict[Path, dict[int, dict]] = {}


def _diagnoses(folder: Path) -> dict[int, dict]:
    if folder not in _DIAGNOSES:
        with open(folder / "ludb.csv", newline="") as handle:
            _DIAGNOSES[folder] = {int(row["ID"]): row for row in csv.DictReader(handle)}
    return _DIAGNOSES[folder]


def is_af_or_flutter(rhythm: str) -> bool:
    return "fibrillation" in rhythm.lower() or "flutter" in rhythm.lower()


def is_sinus(record: LudbRecord) -> bool:
    """Sinus rhythm (any rate, arrhythmia) without pacing and without AV block."""
    av_block = "av block" in record.conduction.lower().replace("-", " ")
    return ("sinus" in record.rhythm.lower() and not record.paced and not av_block
            and not is_af_or_flutter(record.rhythm))


def has_complete_bundle_branch_block(record: LudbRecord) -> bool:
    """Complete left or right bundle branch block, and no pacing (a paced QRS is wide for its own reason)."""
    return not record.paced and any(line.strip().lower().startswith("complete")
                                    for line in record.conduction.splitlines())


def diagnoses(folder: Path, number: int) -> dict[str, str]:
    """The record's row of ``ludb.csv`` (column → its lines joined by "; "), e.g. "Ischemia": "Stemi: septal; ..."."""
    row = _diagnoses(folder).get(number, {})
    return {column: "; ".join(line.strip() for line in value.splitlines() if line.strip())
            for column, value in row.items()}


_ST_AVERAGE_SAMPLES = 3  # the level at a point: mean of this many samples around it (one sample is noisy)
_PR_BASELINE_S = 0.02  # without an annotated P wave, the baseline is the level this long before QRS onset


def st_at_expert_j(record: LudbRecord) -> dict[str, float | None]:
    """{lead: ST level at J (mV)} from the cardiologists' own boundaries in that lead: per beat, the signal at
    the lead's QRS offset minus its PR-segment level (P offset to QRS onset; the 20 ms before QRS onset
    without a P wave), median over the lead's annotated beats. A reference for `per_lead`'s ``st_j_mv``,
    which uses the global (all-lead) QRS offset and PR baseline instead."""
    signal, fs = record.signal, record.fs
    half = _ST_AVERAGE_SAMPLES // 2
    levels: dict[str, float | None] = {}
    for row, (lead, waves) in enumerate(zip(LEADS, record.lead_waves)):
        per_beat = []
        for onset, _, offset in waves["N"]:
            before = [p_offset for _, _, p_offset in waves["p"] if p_offset <= onset and onset - p_offset < 0.2 * fs]
            start = before[-1] if before else max(onset - int(_PR_BASELINE_S * fs), 0)
            if offset + half < signal.shape[1]:
                per_beat.append(signal[row, offset - half:offset + half + 1].mean() - signal[row, start:onset + 1].mean())
        levels[lead] = round(float(np.median(per_beat)), 3) if per_beat else None
    return levels


def lead_p_duration_ms(record: LudbRecord) -> dict[str, float | None]:
    """{lead: the cardiologists' P wave duration in that lead (ms), median over its annotated P waves;
    None with fewer than 2}. A reference for `per_lead`'s ``p_duration_ms``."""
    ms = 1000.0 / record.fs
    return {lead: round(float(np.median([(offset - onset) * ms for onset, _, offset in waves["p"]])), 1)
            if len(waves["p"]) >= 2 else None for lead, waves in zip(LEADS, record.lead_waves)}
