"""What a result gains from a file: the cart's findings, and each of our measurements beside the cart's."""

from __future__ import annotations

from ..qtc import FORMULA_MATCH_MS, FORMULAS, MEASURED_QTC_KEYS, infer_formula
from .model import EcgFile

_AXES = ("p_axis", "qrs_axis", "t_axis")


def file_fields(source: EcgFile, measurements: dict | None) -> dict:
    fields = {"cart_measurements": source.cart_measurements,
              "cart_lead_measurements": source.cart_lead_measurements,
              "cart_statements": list(source.cart_statements)}
    if measurements is not None:
        fields["measurement_vs_cart"] = measurement_vs_cart(measurements, source.cart_measurements or {})
    return fields


def measurement_vs_cart(ours: dict, cart: dict) -> dict:
    """{name: {"ours", "cart", "difference" (ours − cart; axes wrapped to ±180°)}} for each cart measurement.

    A QTc whose formula the file does not state ("qtc") also gets ``formula`` (the one its own QT and RR
    reproduce it with, None when none does) and ``compared_with`` (which of our values stands beside it, and
    why); ours is then our QT corrected by that formula at our RR, or our Bazett when the formula is unknown.
    """
    table = {}
    for key, cart_value in cart.items():
        if key == "qtc":
            table[key] = _unstated_qtc(ours, cart)
        else:
            table[key] = _entry(ours.get(key), cart_value, key in _AXES)
    return table


def _entry(our_value, cart_value, is_axis: bool = False) -> dict:
    entry = {"ours": our_value, "cart": cart_value, "difference": None}
    if _is_number(our_value) and _is_number(cart_value):
        difference = our_value - cart_value
        if is_axis:
            difference = (difference + 180) % 360 - 180
        entry["difference"] = round(difference, 1)
    return entry


def _unstated_qtc(ours: dict, cart: dict) -> dict:
    qtc_ms, qt_ms, (rr_ms, rr_source) = cart["qtc"], cart.get("qt_interval"), _cart_rr(cart, ours)
    if not all(_is_number(value) and value > 0 for value in (qtc_ms, qt_ms, rr_ms)):
        missing = "QT" if not _is_number(qt_ms) else "RR or heart rate"
        return _compared(ours.get("qtc_bazett"), qtc_ms, None, f"our qtc_bazett: the file does not state its QTc "
                                                               f"formula, nor the {missing} to infer it from")
    fit = infer_formula(qt_ms, rr_ms, qtc_ms)
    by_each = ", ".join(f"{name.capitalize()} {value:.0f}" for name, value in fit.predicted_ms.items())
    basis = f"the cart's QT {qt_ms:g} ms at RR {rr_ms:.0f} ms ({rr_source}) gives {by_each}"
    if fit.formula is None:
        return _compared(ours.get("qtc_bazett"), qtc_ms, None, f"our qtc_bazett: the file does not state its QTc "
                                                               f"formula and none reproduces its {qtc_ms:g}: {basis}")
    name = fit.formula.capitalize()
    if fit.formula in MEASURED_QTC_KEYS:
        ours_by, our_value = f"our {MEASURED_QTC_KEYS[fit.formula]}", ours.get(MEASURED_QTC_KEYS[fit.formula])
    else:
        ours_by, our_value = f"our QT corrected by {name} at our RR", None
        if _is_number(ours.get("qt_interval")) and _is_number(ours.get("rr_interval")):
            our_value = round(FORMULAS[fit.formula](ours["qt_interval"], ours["rr_interval"] / 1000.0), 1)
    also = [other.capitalize() for other, value in fit.predicted_ms.items()
            if other != fit.formula and abs(value - qtc_ms) <= FORMULA_MATCH_MS]
    return _compared(our_value, qtc_ms, fit.formula,
                     f"{ours_by}: the file does not state its QTc formula; {basis}: {name} reproduces its "
                     f"{qtc_ms:g}" + (f" ({', '.join(also)} within {FORMULA_MATCH_MS:g} ms too)" if also else ""))


def _compared(our_value, cart_qtc, formula: str | None, compared_with: str) -> dict:
    return {**_entry(our_value, cart_qtc), "formula": formula, "compared_with": compared_with}


def _cart_rr(cart: dict, ours: dict) -> tuple[float | None, str]:
    """The RR the cart corrected its QT at: its own RR, its rate, or (when it states neither) ours."""
    if _is_number(cart.get("rr_interval")) and cart["rr_interval"] > 0:
        return cart["rr_interval"], "the cart's RR"
    if _is_number(cart.get("heart_rate")) and cart["heart_rate"] > 0:
        return 60000.0 / cart["heart_rate"], f"from the cart's rate {cart['heart_rate']:g} bpm"
    return ours.get("rr_interval"), "ours: the file states no RR or rate"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
