"""EDF, EDF+ (continuous) and BDF/BDF+ files, decoded by edfio.

The header is read first (lazily for EDF: no samples) so that the record's length is checked before its
samples are scaled. Leads are the signals whose labels name a standard lead ("ECG II", "V1"); others are left out.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

import edfio
import numpy as np

from ..errors import InputError
from ..measure.bandwidth import StatedFilters
from ..settings import Limits
from ..signal import UNIT_SCALE_TO_MV
from .assemble import build_recording, common_rate, lead_name, left_out_note
from .model import EcgFile

# EDF+'s prefiltering field: "HP:0.1Hz LP:75Hz N:50Hz" (EDF+ specification, section 2.1.3.2); "HP:DC" is none
_PREFILTER = re.compile(r"\b(HP|LP|N)\s*:\s*(\d+(?:\.\d+)?)\s*(k?Hz)?", re.IGNORECASE)


def read_edf(data: bytes, field: str, limits: Limits) -> EcgFile:
    bdf = data[:8] == b"\xffBIOSEMI"
    fmt = "edf"
    try:
        # edfio loads EDF lazily (header only); its BDF reader has no lazy mode
        record = edfio.read_bdf(data) if bdf else edfio.read_edf(data, lazy_load_data=True)
        signals = [signal for signal in record.signals if lead_name(signal.label)]
        others = [signal.label[:16] for signal in record.signals if not lead_name(signal.label)]
    except (ValueError, IndexError, UnicodeDecodeError, OverflowError, EOFError) as error:
        raise InputError(field, f"{fmt}: truncated or corrupt header ({type(error).__name__})") from None
    if record.reserved.startswith(("EDF+D", "BDF+D")):  # records with gaps between them: no one time axis
        raise InputError(field, f"{fmt}: discontinuous recordings (EDF+D/BDF+D) are not supported; "
                         "export the record as continuous (EDF+C)")
    if not signals:
        raise InputError(field, f"{fmt}: not an ECG: no signal is labelled as a standard lead (I, II, V1, ...)")
    fs = common_rate([float(signal.sampling_frequency) for signal in signals], fmt, field)
    n_samples = round(fs * record.duration)
    if n_samples > limits.max_samples:
        raise InputError(field, f"{fmt}: recording too long: {n_samples} samples per lead; "
                         f"the limit is {limits.max_samples}")
    leads = []
    for signal in signals:
        scale = UNIT_SCALE_TO_MV.get(signal.physical_dimension.strip().lower())
        if scale is None:
            raise InputError(field, f"{fmt}: a calibration that makes no sense: lead {signal.label[:16]!r} "
                             f"is in {signal.physical_dimension[:8]!r}, not a voltage unit")
        try:
            samples = np.asarray(signal.data, dtype=np.float64) * scale
        except (ValueError, OSError, EOFError) as error:
            raise InputError(field, f"{fmt}: truncated or corrupt data ({type(error).__name__})") from None
        leads.append((signal.label, samples))
    notes = [left_out_note(others)] if others else []
    recording = build_recording(leads, fs, fmt, field, limits, notes)
    recording = dataclasses.replace(recording, filters=stated_prefiltering([signal.prefiltering for signal in signals]))
    age, sex = _age_and_sex(record)
    return EcgFile(format=fmt, recording=recording, age_years=age, sex=sex)


def stated_prefiltering(fields: list[str]) -> StatedFilters | None:
    """The leads' prefiltering fields → the filters they state; where leads differ, the narrowest band."""
    highpass, lowpass, notch = [], [], []
    for text in fields:
        for kind, number, unit in _PREFILTER.findall(text or ""):
            hz = float(number) * (1000.0 if unit.lower() == "khz" else 1.0)
            {"HP": highpass, "LP": lowpass, "N": notch}[kind.upper()].append(hz)
    return StatedFilters.from_values(max(highpass, default=None), min(lowpass, default=None),
                                     notch[0] if notch else None)


def _age_and_sex(record) -> tuple[float | None, str | None]:
    """EDF+ keeps sex and birth date in the patient field; age is taken at the recording date."""
    try:
        patient = record.patient
        sex = patient.sex if patient.sex in ("M", "F") else None
        birth, start = patient.birthdate, record.startdate
    except (edfio.AnonymizedDateError, ValueError, AttributeError):
        return None, None
    if not isinstance(birth, datetime.date) or not isinstance(start, datetime.date) or start < birth:
        return None, sex
    return round((start - birth).days / 365.25, 1), sex
