"""The patient's age, sex and pacemaker, where the request or the ECG file gives them (criteria depend on them).

Never logged and never echoed back in a result: age and sex only choose thresholds, and a stated pacemaker only
gives a note where the pacing spikes found say otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import InputError

_SEXES = {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F"}
_MAX_AGE_YEARS = 130


@dataclass(frozen=True)
class Patient:
    age_years: float | None = None
    sex: str | None = None  # "M" / "F"
    pacemaker: bool | None = None  # whether the patient has one (None: not stated)


def parse_patient(item: dict, prefix: str, source: Any = None) -> Patient:
    """``inputs.age`` (years), ``inputs.sex`` ("M"/"F", "male"/"female") and ``inputs.pacemaker`` (true/false);
    each falls back to the file's (``source``: an `ecg_core.files.EcgFile`) when the request leaves it out."""
    age, sex, pacemaker = item.get("age"), item.get("sex"), item.get("pacemaker")
    if age is not None:
        if isinstance(age, bool) or not isinstance(age, (int, float)) or not math.isfinite(age) \
                or not 0 <= age <= _MAX_AGE_YEARS:
            raise InputError(f"{prefix}.age", f"expected an age in years from 0 to {_MAX_AGE_YEARS}")
        age = float(age)
    if sex is not None:
        if not isinstance(sex, str) or sex.strip().lower() not in _SEXES:
            raise InputError(f"{prefix}.sex", "expected 'M' or 'F' (or 'male' / 'female')")
        sex = _SEXES[sex.strip().lower()]
    if pacemaker is not None and not isinstance(pacemaker, bool):
        raise InputError(f"{prefix}.pacemaker", "expected true or false (whether the patient has a pacemaker)")
    if source is not None:
        age = source.age_years if age is None else age
        sex = source.sex if sex is None else sex
        pacemaker = source.pacemaker if pacemaker is None else pacemaker
    return Patient(age, sex, pacemaker)
