"""Adult resting-ECG normal ranges for the page and the report (the limits interpret.py applies: AHA/ACCF/HRS
2009; P duration and P axis from standard ECG texts). One table, so page and PDF flag the same values."""

from __future__ import annotations

from ..patient import Patient
from ..qtc import MEASURED_QTC_KEYS
from ..qtc_limits import SHORT_AT_MOST_MS, classify_qtc, normal_range_text, qtc_limits

# key: (label, unit, low, high); None = no bound on that side. QT has no fixed range (it depends on the
# rate): QTc carries the flag, with the patient's sex (`qtc_limits`; the bounds here are placeholders).
NORMAL_RANGES: dict[str, tuple[str, str, float | None, float | None]] = {
    "heart_rate": ("Heart rate", "bpm", 60, 100),
    "rr_interval": ("RR interval", "ms", 600, 1000),
    "pr_interval": ("PR interval", "ms", 120, 200),
    "p_duration": ("P duration", "ms", None, 120),
    "qrs_duration": ("QRS duration", "ms", None, 110),
    "qt_interval": ("QT interval", "ms", None, None),
    "qtc_bazett": ("QTc (Bazett)", "ms", None, None),
    "qtc_fridericia": ("QTc (Fridericia)", "ms", None, None),
    "p_axis": ("P axis", "°", 0, 75),
    "qrs_axis": ("QRS axis", "°", -30, 90),
    "t_axis": ("T axis", "°", None, None),
}


def measurements_of(result: dict) -> dict:
    """The measurement dict of an analyze result (its clinical analysis's) or of a measure result."""
    return result.get("measurements") or result.get("clinical_analysis", {}).get("physiological_parameters", {})


def measurement_table(result: dict, patient: Patient = Patient()) -> list[dict]:
    """One row per measurement of an analyze/measure result: value, unit, normal range (``low``, ``high``
    and its text ``range``), ``flag`` ("low"/"high", "borderline" for a QTc that is prolonged only for a
    man when sex is not given, or None), why it is missing, and the cart's own value when the file had one.
    ``patient`` sets the QTc limits (the result does not carry the patient's sex). A cart QTc whose formula
    the file does not state sits beside ours by the formula inferred for it (`files.compare`), or in a row
    of its own (key ``qtc``) when that is a formula we do not report, or unknown."""
    measurements = measurements_of(result)
    reasons = measurements.get("unmeasured") or {}
    cart = dict(result.get("cart_measurements") or {})
    unstated_qtc = (result.get("measurement_vs_cart") or {}).get("qtc")
    qtc_row = MEASURED_QTC_KEYS.get((unstated_qtc or {}).get("formula"))  # beside ours by the cart's formula
    if qtc_row is not None and qtc_row not in cart:
        cart[qtc_row] = cart.pop("qtc")
    rows = []
    for key, (label, unit, low, high) in NORMAL_RANGES.items():
        rows.append(_row(key, label, unit, low, high, measurements.get(key), reasons.get(key), cart.get(key), patient))
        if key == "qtc_fridericia" and "qtc" in cart:
            rows.append(_other_formula_row(unstated_qtc, cart["qtc"], patient))
    return rows


_QTC_KEYS = ("qtc_bazett", "qtc_fridericia", "qtc")
_QTC_FLAGS = {"markedly prolonged": "high", "prolonged": "high", "borderline": "borderline", "short": "low"}


def _row(key: str, label: str, unit: str, low: float | None, high: float | None, value, reason: str | None,
         cart_value, patient: Patient) -> dict:
    if key in _QTC_KEYS:
        low, high = SHORT_AT_MOST_MS, qtc_limits(patient.sex).prolonged_from_ms
        flag = _QTC_FLAGS.get(classify_qtc(value, patient.sex))
        text = normal_range_text(patient.sex)
    else:
        flag = ("low" if value is not None and low is not None and value < low else
                "high" if value is not None and high is not None and value > high else None)
        text = _range_text(low, high)
    return {"key": key, "label": label, "unit": unit, "value": value, "low": low, "high": high, "range": text,
            "flag": flag, "reason": reason, "cart": cart_value}


def _other_formula_row(comparison: dict | None, cart_qtc: float, patient: Patient) -> dict:
    """The cart's QTc by a formula we do not report (or an unknown one), beside ours by the same formula."""
    formula = (comparison or {}).get("formula")
    label = f"QTc ({formula.capitalize()}, the cart's formula)" if formula else "QTc (the cart's; formula unknown)"
    value = (comparison or {}).get("ours") if formula else None  # unknown: no value of ours is the same
    reason = None if formula else "the cart's formula is unknown: none of ours is the same"
    return _row("qtc", label, "ms", None, None, value, reason, cart_qtc, patient)


def _range_text(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return ""
    if low is None:
        return f"≤ {high:g}"
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g}–{high:g}"
