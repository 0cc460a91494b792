"""Lead names: canonical spelling, aliases, and arrangement into the standard 12-lead order.

Einthoven/Goldberger relations (all in the same units) let the four derived limb leads be computed from
any two of I, II, III:  III = II - I,  aVR = -(I + II) / 2,  aVL = I - II / 2,  aVF = II - I / 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

STANDARD_LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
LIMB_LEADS = STANDARD_LEADS[:6]
CHEST_LEADS = STANDARD_LEADS[6:]

_BY_KEY = {name.lower(): name for name in STANDARD_LEADS}
# MIT-BIH and Holter files call modified limb leads "MLII" etc.; some carts write "D1".."D3".
_BY_KEY.update({"mli": "I", "mlii": "II", "mliii": "III", "d1": "I", "d2": "II", "d3": "III"})


def canonical_lead_name(name: str) -> str | None:
    """``"lead II"``, ``"ii"``, ``"MLII"``, ``"avr"`` → ``"II"``/``"aVR"``; None for an unknown name."""
    key = re.sub(r"[\s_\-]+", "", str(name)).lower()
    key = key.removeprefix("lead")
    return _BY_KEY.get(key)


@dataclass(frozen=True)
class TwelveLead:
    """A recording arranged as I, II, III, aVR, aVL, aVF, V1–V6 (rows), with how each row was obtained."""

    signal: np.ndarray  # (12, n_samples)
    recorded: tuple[str, ...]
    derived: tuple[str, ...]
    missing: tuple[str, ...]  # rows left at zero


def derive_limb_leads(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The limb leads missing from ``rows`` (canonical name → samples) that two of I, II, III give, as carts
    derive them; {} when fewer than two of those are there."""
    derived: dict[str, np.ndarray] = {}
    if "I" not in rows and "II" in rows and "III" in rows:
        derived["I"] = rows["II"] - rows["III"]
    if "II" not in rows and "I" in rows and "III" in rows:
        derived["II"] = rows["I"] + rows["III"]
    lead_i, lead_ii = rows.get("I", derived.get("I")), rows.get("II", derived.get("II"))
    if lead_i is not None and lead_ii is not None:
        for name, value in (("III", lead_ii - lead_i), ("aVR", -(lead_i + lead_ii) / 2), ("aVL", lead_i - lead_ii / 2),
                            ("aVF", lead_ii - lead_i / 2)):
            if name not in rows:
                derived[name] = value
    return derived


def with_derived_limb_leads(signal: np.ndarray, lead_names: tuple[str, ...]
                            ) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """(signal, lead names, derived names): ``signal``'s rows (named by ``lead_names``, canonical) followed by the
    limb leads `derive_limb_leads` gives, in standard order."""
    derived = derive_limb_leads({name: signal[i] for i, name in enumerate(lead_names)})
    added = tuple(name for name in STANDARD_LEADS if name in derived)
    if not added:
        return signal, lead_names, ()
    return np.vstack([signal] + [derived[name][np.newaxis] for name in added]), lead_names + added, added


def to_twelve_lead(signal: np.ndarray, lead_names: tuple[str, ...]) -> TwelveLead:
    """Place named leads (canonical names) in standard order, deriving limb leads that are missing."""
    rows = {name: signal[i] for i, name in enumerate(lead_names)}
    derived_rows = derive_limb_leads(rows)
    rows.update(derived_rows)
    derived = list(derived_rows)
    n_samples = signal.shape[1]
    out = np.zeros((len(STANDARD_LEADS), n_samples), dtype=signal.dtype)
    missing = []
    for index, name in enumerate(STANDARD_LEADS):
        if name in rows:
            out[index] = rows[name]
        else:
            missing.append(name)
    recorded = tuple(name for name in STANDARD_LEADS if name in lead_names)
    return TwelveLead(out, recorded, tuple(derived), tuple(missing))
