"""QTc limits by sex: one rule for the clinical summary (interpret.py) and the page's and report's table
(ui/ranges.py).

Prolonged: QTc ≥ 450 ms in men, ≥ 460 ms in women (AHA/ACCF/HRS recommendations for the standardization
and interpretation of the ECG, Part IV; Rautaharju et al., Circulation 2009;119:e241). They state these
limits for a QT adjusted by a linear regression formula; carts apply them to Bazett's and Fridericia's QTc,
and so do we. Markedly prolonged: > 500 ms, where the risk of torsade de pointes rises steeply (AHA/ACCF
scientific statement on torsade in hospital settings; Drew et al., Circulation 2010;121:1047).
Short: ≤ 340 ms, the QTc at which the ESC 2015 guideline on ventricular arrhythmias (Priori et al., Eur
Heart J 2015;36:2793) diagnoses short QT syndrome; the 2009 recommendations' "≤ 390 ms short" is not
flagged, as many healthy adults measure there.

Sex not given: prolonged from 460 ms (the higher limit, so a woman's normal QTc is not called prolonged),
and 450-459 ms borderline (prolonged for a man), so a man's prolonged QTc is still pointed out.
"""

from __future__ import annotations

from dataclasses import dataclass

SHORT_AT_MOST_MS = 340.0
MARKEDLY_PROLONGED_ABOVE_MS = 500.0
_PROLONGED_FROM_MS = {"M": 450.0, "F": 460.0}
_WHOSE_LIMIT = {"M": "men", "F": "women"}


@dataclass(frozen=True)
class QtcLimits:
    prolonged_from_ms: float
    borderline_from_ms: float | None  # sex not given: prolonged for a man from here
    applies_to: str  # "men", "women" or "sex not given"


def qtc_limits(sex: str | None) -> QtcLimits:
    """The limits for ``sex`` ("M", "F" or None)."""
    if sex in _PROLONGED_FROM_MS:
        return QtcLimits(_PROLONGED_FROM_MS[sex], None, _WHOSE_LIMIT[sex])
    return QtcLimits(_PROLONGED_FROM_MS["F"], _PROLONGED_FROM_MS["M"], "sex not given")


def classify_qtc(qtc_ms: float | None, sex: str | None) -> str | None:
    """"markedly prolonged", "prolonged", "borderline" (sex not given, prolonged for a man), "short" or
    None (within the limits, or no QTc)."""
    if qtc_ms is None:
        return None
    limits = qtc_limits(sex)
    if qtc_ms > MARKEDLY_PROLONGED_ABOVE_MS:
        return "markedly prolonged"
    if qtc_ms >= limits.prolonged_from_ms:
        return "prolonged"
    if limits.borderline_from_ms is not None and qtc_ms >= limits.borderline_from_ms:
        return "borderline"
    if qtc_ms <= SHORT_AT_MOST_MS:
        return "short"
    return None


def qtc_finding(qtc_ms: float | None, sex: str | None, formula: str = "Bazett") -> str | None:
    """The abnormality's text for a QTc outside the limits, None within them."""
    category = classify_qtc(qtc_ms, sex)
    limits = qtc_limits(sex)
    value = f"{formula} {qtc_ms:.0f} ms" if qtc_ms is not None else ""
    if category == "markedly prolonged":
        return f"Markedly prolonged QTc ({value} > {MARKEDLY_PROLONGED_ABOVE_MS:.0f})"
    if category == "prolonged":
        whose = ("sex not given: the women's limit, met by either sex" if limits.borderline_from_ms is not None
                 else f"the limit for {limits.applies_to}")
        return f"Prolonged QTc ({value} ≥ {limits.prolonged_from_ms:.0f}, {whose})"
    if category == "borderline":
        return (f"Borderline QTc ({value}): prolonged for a man (≥ {limits.borderline_from_ms:.0f}), "
                f"not for a woman (< {limits.prolonged_from_ms:.0f}); sex not given")
    if category == "short":
        return f"Short QTc ({value} ≤ {SHORT_AT_MOST_MS:.0f}): short QT syndrome range"
    return None


def normal_range_text(sex: str | None) -> str:
    """The normal range as the table prints it: "> 340, < 450 (men)"; sex not given: "> 340, < 460
    (450–459 borderline: prolonged for a man)"."""
    limits = qtc_limits(sex)
    text = f"> {SHORT_AT_MOST_MS:g}, < {limits.prolonged_from_ms:g}"
    if limits.borderline_from_ms is None:
        return f"{text} ({limits.applies_to})"
    return f"{text} ({limits.borderline_from_ms:g}–{limits.prolonged_from_ms - 1:g} borderline: prolonged for a man)"
