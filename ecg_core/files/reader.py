"""`read_ecg_file`: size check, format detection (content first, the hint second), then the format's reader."""

from __future__ import annotations

from pathlib import PurePath

from ..errors import InputError
from ..settings import Limits
from . import archive, delimited, edf, vendor
from .detect import detect_format
from .model import EcgFile

ACCEPTED_FORMATS = ("dicom", "ge_muse", "philips", "hl7_aecg", "scp", "wfdb", "edf", "csv")
_HINT_ALIASES = {
    "dcm": "dicom", "muse": "ge_muse", "ge": "ge_muse", "gemuse": "ge_muse", "sierra": "philips",
    "pagewriter": "philips", "aecg": "hl7_aecg", "hl7": "hl7_aecg", "scp_ecg": "scp", "scpecg": "scp",
    "bdf": "edf", "edf+": "edf", "tsv": "csv", "txt": "csv", "zip": "wfdb",
}
_EXTENSION_HINTS = {".csv": "csv", ".tsv": "csv", ".txt": "csv"}  # only when the content says nothing


def read_ecg_file(data: bytes, *, format_hint: str | None = None, filename: str | None = None, limits: Limits,
                  field: str = "inputs.file", fs: float | None = None, units: str | None = None) -> EcgFile:
    """Decode one ECG file. ``fs`` and ``units`` apply to CSV/TSV only (other formats state their own).

    The file name is never echoed (it may carry a patient's name); its extension is used only when the
    content matches no format.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(field, f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    hint = _parse_hint(format_hint, field)
    if not data:
        raise InputError(field, "the file is empty")
    if len(data) > limits.max_file_bytes:
        raise InputError(field, f"the file is {len(data)} bytes; at most {limits.max_file_bytes} are accepted")
    detected = detect_format(data)
    content = {"zip": "wfdb", "wfdb_header": "wfdb"}.get(detected, detected)
    if content is not None and content not in ACCEPTED_FORMATS:
        raise InputError(field, f"unknown format: {content} files are not read here; accepted: "
                         f"{', '.join(ACCEPTED_FORMATS)}")
    if content is not None and hint is not None and content != hint:
        raise InputError(field, f"{hint}: the file's content is {content}, not {hint}")
    fmt = content or hint or _EXTENSION_HINTS.get(PurePath(filename or "").suffix.lower())
    if fmt is None:
        raise InputError(field, f"unknown format: the content matches none of the accepted formats "
                         f"({', '.join(ACCEPTED_FORMATS)}; WFDB as a zip of .hea and .dat)")
    if (fs is not None or units is not None) and fmt != "csv":
        raise InputError(f"{field.rpartition('.')[0] or 'inputs'}.{'fs' if fs is not None else 'units'}",
                         f"{fmt} files state their sampling rate and units; give fs/units only with CSV/TSV")
    if detected == "wfdb_header":
        raise InputError(field, "wfdb: a header alone has no signal; send the .hea and its .dat together in a zip")
    if fmt == "wfdb":
        if detected != "zip":
            raise InputError(field, "wfdb: send the record as a zip holding its .hea and .dat")
        return archive.read_wfdb_zip(data, field, limits)
    if fmt == "edf":
        return edf.read_edf(data, field, limits)
    if fmt == "csv":
        return delimited.read_delimited(data, field, limits, fs=fs, units=units)
    return vendor.read_bytes(data, fmt, field, limits)


def _parse_hint(value, field: str) -> str | None:
    hint_field = f"{field.rpartition('.')[0] or 'inputs'}.format"
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(hint_field, f"expected a format name, got {type(value).__name__}")
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    name = _HINT_ALIASES.get(key, key)
    if name not in ACCEPTED_FORMATS:
        raise InputError(hint_field, f"unknown format {value[:30]!r}; accepted: {', '.join(ACCEPTED_FORMATS)}")
    return name
