"""The cart's own findings from an ecgdatakit `ECGRecord`: global and per-lead measurements, statements, age, sex,
pacemaker.

Names follow `ecg_core.measure.MEASUREMENT_KEYS` so they can be set beside ours. A QTc whose formula the file
does not state is kept as ``qtc`` rather than guessed to be Bazett's or Fridericia's (only when the file
gives no QTc with its formula; `compare` infers the formula). What a file states as wave boundaries or beat
times (SCP-ECG's reference beat, an aECG's annotated beats) becomes the intervals they define, and a cart
that states only its RR interval has the rate 60000 / RR.
"""

from __future__ import annotations

import re

from ..measure import MEASUREMENT_KEYS
from .assemble import lead_name
from .boundaries import reference_beat_intervals

# Stated in the file but kept by ecgdatakit in `annotations` only: (annotation key → our key).
_ANNOTATION_KEYS = {
    "QTc Interval": "qtc",  # DICOM, formula not stated
    "QTCorrected": "qtc",  # GE MUSE, formula not stated
    "MDC_ECG_TIME_PD_QTc": "qtc",  # HL7 aECG, formula not stated
    "qtc": "qtc",  # Philips (formula not stated), SCP (formula code)
    "MDC_ECG_TIME_PD_P": "p_duration",
    "pdur": "p_duration",  # Philips
}
_LEADING_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")
# Statements that record who signed the report, not a finding: staff names stay out of results too.
_SIGNATURE = re.compile(r"^\s*(confirmed|edited|reviewed|overread|read)\s+by\b", re.IGNORECASE)


def cart_measurements(record, beat_rr_ms: float | None = None) -> dict | None:
    """``beat_rr_ms``: the mean RR of the cart's annotated beats, when the reader found them."""
    stated = {key: getattr(record.measurements, key, None) for key in MEASUREMENT_KEYS}
    found = {key: value for key, value in stated.items() if value is not None}
    for annotation, key in _ANNOTATION_KEYS.items():
        number = _number(record.annotations.get(annotation))
        if number is not None and key not in found:
            found[key] = number
    if "qtc_bazett" in found or "qtc_fridericia" in found:
        found.pop("qtc", None)  # the same QTc again, without its formula
    for key, value in reference_beat_intervals(record.raw_metadata).items():
        found.setdefault(key, value)
    if beat_rr_ms is not None:
        found.setdefault("rr_interval", beat_rr_ms)
    if "heart_rate" not in found and found.get("rr_interval"):
        found["heart_rate"] = round(60000 / found["rr_interval"], 1)
    return found or None


def cart_lead_measurements(record) -> dict[str, dict] | None:
    by_lead = record.raw_metadata.get("lead_measurements")
    if not isinstance(by_lead, dict):
        return None
    out = {}
    for label, values in by_lead.items():
        name = lead_name(str(label))
        if name is not None and isinstance(values, dict):
            out[name] = {str(key): _value(value) for key, value in values.items()}
    return out or None


def cart_statements(record) -> list[str]:
    statements = []
    for text, reason in record.interpretation.statements:
        line = " ".join(str(text).split())
        if line and not _SIGNATURE.match(line):
            statements.append(f"{line} ({' '.join(str(reason).split())})" if reason else line)
    return statements


def stated_pacemaker(record) -> bool | None:
    """Whether the file says the patient has a pacemaker (ecgdatakit reads Philips' ``pacestatus`` and SCP-ECG's
    medical history codes); None where it does not say."""
    stated = record.patient.has_pacemaker
    return stated if isinstance(stated, bool) else None


def age_and_sex(record) -> tuple[float | None, str | None]:
    age = record.patient.age
    sex = str(record.patient.sex or "").strip().upper()[:1]
    return (float(age) if isinstance(age, (int, float)) and 0 <= age < 130 else None,
            sex if sex in ("M", "F") else None)


def _number(text) -> float | int | None:
    match = _LEADING_NUMBER.match(str(text)) if text is not None else None
    if match is None:
        return None
    value = float(match.group(1))
    return int(value) if value.is_integer() else value


def _value(value):
    """Numbers stay numbers; the text "603" becomes 603; other text (flags) stays as written."""
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value).strip()
    number = _number(text)
    return number if number is not None and _LEADING_NUMBER.fullmatch(text) else text[:40]
