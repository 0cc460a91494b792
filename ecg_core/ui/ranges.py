"""Adult resting-ECG normal ranges for the page and the report (the limits interpret.py applies: AHA/ACCF/HRS
2009; P duration and P axis from standard ECG texts). One table, so page and PDF flag the same values."""

from __future__ import annotations

from ..qtc import MEASURED_QTC_KEYS

# key: (label, unit, low, high); None = no bound on that side. QT has no fixed range (it depends on the
# rate): QTc carries the flag. The QTc bound is the men's (470 ms; women's 480 ms) when sex is unknown.
NORMAL_RANGES: dict[str, tuple[str, str, float | None, float | None]] = {
    "heart_rate": ("Heart rate", "bpm", 60, 100),
    "rr_interval": ("RR interval", "ms", 600, 1000),
    "pr_interval": ("PR interval", "ms", 120, 200),
    "p_duration": ("P duration", "ms", None, 120),
    "qrs_duration": ("QRS duration", "ms", None, 110),
    "qt_interval": ("QT interval", "ms", None, None),
    "qtc_bazett": ("QTc (Bazett)", "ms", None, 470),
    "qtc_fridericia": ("QTc (Fridericia)", "ms", None, 470),
    "p_axis": ("P axis", "°", 0, 75),
    "qrs_axis": ("QRS axis", "°", -30, 90),
    "t_axis": ("T axis", "°", None, None),
}


def measurement_table(result: dict) -> list[dict]:
    """One row per measurement of an analyze/measure result: value, unit, normal range, ``flag``
    ("low"/"high"/None), why it is missing, and the cart's own value when the file had one."""
    measurements = result.get("measurements") or result.get("clinical_analysis", {}).get("physiological_parameters", {})
    cart = dict(result.get("cart_measurements") or {})
    unstated_qtc = (result.get("measurement_vs_cart") or {}).get("qtc")
    qtc_row = MEASURED_QTC_KEYS.get((unstated_qtc or {}).get("formula"))  # beside ours by the cart's formula
    if qtc_row is not None and qtc_row not in cart:
        cart[qtc_row] = cart.pop("qtc")
    rows = []
    for key, (label, unit, low, high) in NORMAL_RANGES.items():
        value = measurements.get(key)
        rows.append({"key": key, "label": label, "unit": unit, "value": value, "low": low, "high": high,
                     "flag": _flag(value, low, high), "reason": (measurements.get("unmeasured") or {}).get(key),
                     "cart": cart.get(key)})
        if key == "qtc_fridericia" and "qtc" in cart:
            rows.append(_other_formula_row(unstated_qtc, cart["qtc"]))
    return rows


def _other_formula_row(comparison: dict | None, cart_qtc: float) -> dict:
    """The cart's QTc by a formula we do not report (or an unknown one), beside ours by the same formula."""
    formula = (comparison or {}).get("formula")
    label = f"QTc ({formula.capitalize()}, the cart's formula)" if formula else "QTc (the cart's; formula unknown)"
    value = (comparison or {}).get("ours") if formula else None  # unknown: no value of ours is the same
    _, unit, low, high = NORMAL_RANGES["qtc_bazett"]
    reason = None if formula else "the cart's formula is unknown: none of ours is the same"
    return {"key": "qtc", "label": label, "unit": unit, "value": value, "low": low, "high": high,
            "flag": _flag(value, low, high), "reason": reason, "cart": cart_qtc}


def _flag(value, low, high) -> str | None:
    if value is not None and low is not None and value < low:
        return "low"
    if value is not None and high is not None and value > high:
        return "high"
    return None


def range_text(row: dict) -> str:
    low, high = row["low"], row["high"]
    if low is None and high is None:
        return ""
    if low is None:
        return f"≤ {high:g}"
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g}–{high:g}"
