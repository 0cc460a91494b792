"""One input (an ECG file, or a table row) → one parsed row: a validated recording, or the reason it has none.

This runs in Ray tasks. The recording is validated by the endpoint's own `parse_recording`, so a file gives
the same `Recording` (and the same notes and errors) as its signal sent to the endpoint. Parsed rows carry
the signal as raw float64 bytes plus its shape, and text lists as JSON, so Arrow never has to guess a type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import to_jsonable
from ..errors import InputError
from ..settings import Limits
from ..signal import Recording, parse_recording

MAX_ERROR_CHARS = 500


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
    fmt = "wfdb" if path.suffix.lower() == ".hea" else None
    try:
        if fmt != "wfdb":
            raise InputError("file", f"unsupported file type {path.suffix or '(none)'!r}")
        return parsed_row(str(path), fmt, parse_recording(_wfdb_spec(path), "file", limits))
    except InputError as error:
        return failed_row(str(path), str(error), fmt)
    except Exception as error:  # any reader failure on a damaged file: the row says so, the run goes on
        return failed_row(str(path), f"file: unreadable: {type(error).__name__}: {error}", fmt)


def _wfdb_spec(path: Path) -> dict[str, Any]:
    import wfdb  # imported here: only tasks that read WFDB records need it

    record = wfdb.rdrecord(str(path.with_suffix("")))
    units = sorted(set(record.units or ()))
    if len(units) > 1:
        raise InputError("file.units", f"leads in different units ({', '.join(units)})")
    return {"signal": record.p_signal.T.tolist(), "fs": float(record.fs), "lead_names": list(record.sig_name),
            "units": units[0] if units else None}


def parse_table_row(row: dict[str, Any], columns: TableColumns, limits: Limits, fmt: str) -> dict[str, Any]:
    source = str(row[columns.id])
    spec = {"signal": to_jsonable(row.get(columns.signal)),
            "fs": _value(row, "fs", columns.fs),
            "lead_names": _value(row, "lead_names", columns.lead_names),
            "units": _value(row, "units", columns.units)}
    try:
        return parsed_row(source, fmt, parse_recording({k: v for k, v in spec.items() if v is not None},
                                                       "row", limits))
    except InputError as error:
        return failed_row(source, str(error), fmt)


def _value(row: dict[str, Any], column: str, default: Any) -> Any:
    value = to_jsonable(row.get(column))
    return to_jsonable(default) if value is None else value


def parsed_row(source: str, fmt: str, recording: Recording, cart: dict | None = None) -> dict[str, Any]:
    signal = np.ascontiguousarray(recording.signal, dtype=np.float64)
    return {"source": source, "format": fmt, "error": "", "signal": signal.tobytes(),
            "n_leads": signal.shape[0], "fs": recording.fs, "lead_names": json.dumps(recording.lead_names),
            "notes": json.dumps(recording.notes), "cart_json": json.dumps(cart)}


def failed_row(source: str, message: str, fmt: str | None) -> dict[str, Any]:
    return {"source": source, "format": fmt or "", "error": message[:MAX_ERROR_CHARS] or "error", "signal": b"",
            "n_leads": 0, "fs": 0.0, "lead_names": "null", "notes": "[]", "cart_json": "null"}


def recording_of(row: dict[str, Any]) -> Recording:
    """A parsed row (see `parsed_row`) → the `Recording` it was made from."""
    signal = np.frombuffer(row["signal"], dtype=np.float64).reshape(int(row["n_leads"]), -1)
    names = json.loads(row["lead_names"])
    return Recording(signal=signal, fs=float(row["fs"]), lead_names=tuple(names) if names else None,
                     notes=tuple(json.loads(row["notes"])))
