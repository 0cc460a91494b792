"""QT corrected for heart rate by the four formulas carts use, and which of them a cart used.

Bazett QT/√RR, Fridericia QT/∛RR, Framingham (Sagie) QT + 154·(1 − RR) and Hodges QT + 1.75·(HR − 60),
with QT in ms and RR in seconds (Hodges' HR = 60/RR). A file that gives its QTc without naming the
formula still gives the QT and (mostly) the RR it was corrected from: the formula that turns the cart's
own QT and RR into its QTc is the one it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The cart's QT and QTc are whole milliseconds, its rate often whole beats per minute: the formula it used
# reproduces its QTc to about 2 ms; one that misses by more than this is not it.
FORMULA_MATCH_MS = 3.0


def bazett(qt_ms: float, rr_s: float) -> float:
    return qt_ms / math.sqrt(rr_s)


def fridericia(qt_ms: float, rr_s: float) -> float:
    return qt_ms / rr_s ** (1 / 3)


def framingham(qt_ms: float, rr_s: float) -> float:
    return qt_ms + 154.0 * (1.0 - rr_s)


def hodges(qt_ms: float, rr_s: float) -> float:
    return qt_ms + 1.75 * (60.0 / rr_s - 60.0)


FORMULAS = {"bazett": bazett, "fridericia": fridericia, "framingham": framingham, "hodges": hodges}  # commonest first
MEASURED_QTC_KEYS = {"bazett": "qtc_bazett", "fridericia": "qtc_fridericia"}  # those `measure` reports


@dataclass(frozen=True)
class FormulaFit:
    formula: str | None  # the formula that reproduces the cart's QTc, None when none does
    predicted_ms: dict[str, float]  # each formula's QTc from the cart's QT and RR


def infer_formula(qt_ms: float, rr_ms: float, qtc_ms: float) -> FormulaFit:
    """The formula whose QTc from ``qt_ms`` at ``rr_ms`` is within FORMULA_MATCH_MS of ``qtc_ms``; when
    several are (near 60 bpm they all agree), the first of `FORMULAS`, which lists them as commonly as
    carts print them: they then differ by less than the match anyway."""
    predicted = {name: formula(qt_ms, rr_ms / 1000.0) for name, formula in FORMULAS.items()}
    fitting = [name for name in FORMULAS if abs(predicted[name] - qtc_ms) <= FORMULA_MATCH_MS]
    return FormulaFit(fitting[0] if fitting else None, predicted)
