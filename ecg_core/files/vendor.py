"""Cart and database formats decoded by ecgdatakit: DICOM, GE MUSE, Philips, HL7 aECG, SCP-ECG, WFDB.

ecgdatakit reads paths, so the bytes go to a private temporary folder that is removed afterwards. Its
errors become `InputError`s naming the format; a decoder's own exception text (which may quote file
content) is not passed on, only what kind of failure it was.
"""

from __future__ import annotations

import dataclasses
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pydicom
from ecgdatakit import ChecksumWarning, CorruptedFileError, ECGDataKitError, FileParser

from ..errors import InputError
from ..measure.bandwidth import StatedFilters
from ..settings import Limits
from . import cart
from .aecg_beats import device_rr_ms
from .assemble import build_recording, common_rate
from .model import EcgFile

# ecgdatakit's parser class → our format name (the formats we read through it).
PARSER_FORMATS = {
    "DICOMWaveformParser": "dicom",
    "GEMuseXMLParser": "ge_muse",
    "SierraXMLParser": "philips",
    "HL7aECGParser": "hl7_aecg",
    "SCPECGParser": "scp",
    "WFDBParser": "wfdb",
}


def read_bytes(data: bytes, fmt: str, field: str, limits: Limits) -> EcgFile:
    with tempfile.TemporaryDirectory(prefix="ecg_file_") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        return read_path(path, fmt, field, limits)


def read_path(path: Path, fmt: str, field: str, limits: Limits) -> EcgFile:
    notes: list[str] = []
    if fmt == "dicom":
        _check_dicom_samples(path, field, limits)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = _parse(path, fmt, field)
    if any(issubclass(warning.category, ChecksumWarning) for warning in caught):
        notes.append("the file's checksum does not match its content; the data may be damaged")
    parsed_as = PARSER_FORMATS.get(record.file_format.parser)
    if parsed_as != fmt:
        raise InputError(field, f"{fmt}: the content was read as {record.file_format.name or 'another format'}")
    leads = [lead for lead in record.leads if len(lead.samples)]
    raw = [lead.label for lead in leads if lead.is_raw]
    if raw:
        raise InputError(field, f"{fmt}: a calibration that makes no sense: no usable gain or unit for "
                         f"lead(s) {', '.join(raw[:6])}")
    fs = common_rate([float(lead.sampling_rate) for lead in leads], fmt, field)
    recording = build_recording([(lead.label, np.asarray(lead.samples, dtype=np.float64)) for lead in leads],
                                fs, fmt, field, limits, notes)
    recording = dataclasses.replace(recording, filters=_stated_filters(record))
    age, sex = cart.age_and_sex(record)
    beat_rr_ms = device_rr_ms(path) if fmt == "hl7_aecg" else None  # ecgdatakit keeps no beat times
    return EcgFile(format=fmt, recording=recording, cart_measurements=cart.cart_measurements(record, beat_rr_ms),
                   cart_lead_measurements=cart.cart_lead_measurements(record),
                   cart_statements=cart.cart_statements(record), age_years=age, sex=sex,
                   pacemaker=cart.stated_pacemaker(record))


def _stated_filters(record) -> StatedFilters | None:
    """The acquisition filters the file states (ecgdatakit reads GE MUSE's, Philips', SCP-ECG's, HL7 aECG's and
    DICOM's own fields); a notch that the file says is off is no notch."""
    filters = record.recording.acquisition.filters
    notch = filters.notch if filters.notch_active is not False else None
    return StatedFilters.from_values(filters.highpass, filters.lowpass, notch)


def _check_dicom_samples(path: Path, field: str, limits: Limits) -> None:
    """The waveform groups state their length: refuse a long recording before its samples are decoded."""
    try:
        dataset = pydicom.dcmread(path, defer_size=1024)  # large values (the samples) stay unread
        declared = [int(group.NumberOfWaveformSamples) for group in dataset.get("WaveformSequence", [])]
    except Exception:  # unreadable here: the parser's own error names the problem
        return
    if declared and max(declared) > limits.max_samples:
        raise InputError(field, f"dicom: recording too long: {max(declared)} samples per lead; "
                         f"the limit is {limits.max_samples}")


def _parse(path: Path, fmt: str, field: str):
    try:
        return FileParser.parse(path, units="mV")
    except CorruptedFileError as error:
        raise InputError(field, f"{fmt}: {_corruption(error)}") from None
    except ECGDataKitError as error:  # unsupported variant, missing element, checksum failure
        raise InputError(field, f"{fmt}: {_library_message(error)}") from None
    except (OSError, ValueError, MemoryError, RecursionError) as error:
        raise InputError(field, f"{fmt}: truncated or corrupt data ({type(error).__name__})") from None


def _corruption(error: CorruptedFileError) -> str:
    if error.__cause__ is not None:  # a decoder crashed on the bytes: say what kind of failure, not its text
        return f"truncated or corrupt data (the decoder failed: {type(error.__cause__).__name__})"
    return _library_message(error)


def _library_message(error: Exception) -> str:
    """ecgdatakit's own message, without its "FORMAT: upload" prefix (the temporary file's name)."""
    text = " ".join(str(error).split())
    _, _, rest = text.partition(": ")
    text = (rest or text).replace("upload", "the file")
    return text[:200] or type(error).__name__
