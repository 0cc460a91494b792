"""What a file yields: the recording and what the cart that wrote it measured and said."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..signal import Recording


@dataclass(frozen=True)
class EcgFile:
    format: str  # one of reader.ACCEPTED_FORMATS, e.g. "dicom", "ge_muse", "wfdb"
    recording: Recording  # mV, canonical lead names, the 12 leads where the file stores 8
    cart_measurements: dict | None = None  # measure.MEASUREMENT_KEYS names (+ "qtc" when no formula is stated)
    cart_lead_measurements: dict[str, dict] | None = None  # {lead: {name: value}} as the file states them
    cart_statements: list[str] = field(default_factory=list)  # the cart's diagnostic statements
    age_years: float | None = None
    sex: str | None = None  # "M" / "F"
    pacemaker: bool | None = None  # whether the patient has one, as the file states (Philips, SCP-ECG)
