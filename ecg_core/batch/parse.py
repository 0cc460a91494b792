"""One input (an ECG file, or a table row) → one parsed row: a validated recording, or the reason it has none.

This runs in Ray tasks, through the endpoint's own readers: a file goes through `read_ecg_file` exactly as
``inputs.file`` does (a WFDB record's .hea and .dat are zipped, the endpoint's WFDB form), a table row through
`parse_recording` as ``inputs.signal`` does, so both give the same recording, notes and errors as the endpoint.
Parsed rows carry the signal as raw float64 bytes plus its lead count, and everything else as JSON, so Arrow
never has to guess a type.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..files import EcgFile, read_ecg_file
from ..jsonable import to_jsonable
from ..patient import Patient, parse_patient
from ..settings import Limits
from ..signal import Recording, parse_recording

MAX_ERROR_CHARS = 500
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableColumns:
    """Where a table keeps each recording's fields; the options fill in what the table has no column for."""

    id: str = "id"
    signal: str = "signal"
    fs: float | None = None
    lead_names: tuple[str, ...] | None = None
    units: str | None = None


def parse_file(row: dict[str, Any], limits: Limits) -> dict[str, Any]:
    path = Path(row["path"])
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:  # before reading it into memory
            raise InputError("file", f"the file is {size} bytes; at most {limits.max_file_bytes} are accepted")
        data = _wfdb_zip(path) if path.suffix.lower() == ".hea" else path.read_bytes()
        ecg_file = read_ecg_file(data, filename=path.name, limits=limits, field="file")
        return parsed_row(str(path), ecg_file.format, ecg_file.recording, parse_patient({}, "file", ecg_file),
                          ecg_file)
    except InputError as error:
        return failed_row(str(path), str(error))
    except OSError as error:  # vanished or unreadable on disk
        return failed_row(str(path), f"file: cannot be read ({type(error).__name__}: {error.strerror})")
    except Exception as error:  # noqa: BLE001 - a reader bug on one odd file must not stop the run
        log.exception("reading an ECG file failed")
        return failed_row(str(path), f"file: the reader failed ({type(error).__name__})")


def _wfdb_zip(header: Path) -> bytes:
    """A WFDB record as the endpoint takes it: a zip of its header and the signal file(s) beside it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(header, header.name)
        for data_file in sorted(header.parent.glob(f"{header.stem}.dat")):
            archive.write(data_file, data_file.name)
    return buffer.getvalue()


def parse_table_row(row: dict[str, Any], columns: TableColumns, limits: Limits, fmt: str) -> dict[str, Any]:
    source = str(row[columns.id])
    spec = {"signal": to_jsonable(row.get(columns.signal)),
            "fs": _value(row, "fs", columns.fs),
            "lead_names": _value(row, "lead_names", columns.lead_names),
            "units": _value(row, "units", columns.units),
            "age": _value(row, "age", None), "sex": _value(row, "sex", None),
            "pacemaker": _value(row, "pacemaker", None)}
    spec = {key: value for key, value in spec.items() if value is not None}
    try:
        return parsed_row(source, fmt, parse_recording(spec, "row", limits), parse_patient(spec, "row"))
    except InputError as error:
        return failed_row(source, str(error), fmt)


def _value(row: dict[str, Any], column: str, default: Any) -> Any:
    value = to_jsonable(row.get(column))
    return to_jsonable(default) if value is None else value


def parsed_row(source: str, fmt: str, recording: Recording, patient: Patient,
               ecg_file: EcgFile | None = None) -> dict[str, Any]:
    signal = np.ascontiguousarray(recording.signal, dtype=np.float64)
    cart = None if ecg_file is None else {
        "cart_measurements": ecg_file.cart_measurements, "cart_lead_measurements": ecg_file.cart_lead_measurements,
        "cart_statements": ecg_file.cart_statements}
    return {"source": source, "format": fmt, "error": "", "signal": signal.tobytes(), "n_leads": signal.shape[0],
            "fs": recording.fs, "lead_names": json.dumps(recording.lead_names), "notes": json.dumps(recording.notes),
            "patient_json": json.dumps(asdict(patient)), "cart_json": json.dumps(cart),
            "filters_json": json.dumps(asdict(recording.filters) if recording.filters else None)}


def failed_row(source: str, message: str, fmt: str = "") -> dict[str, Any]:
    return {"source": source, "format": fmt, "error": message[:MAX_ERROR_CHARS] or "error", "signal": b"",
            "n_leads": 0, "fs": 0.0, "lead_names": "null", "notes": "[]", "patient_json": "{}", "cart_json": "null",
            "filters_json": "null"}
