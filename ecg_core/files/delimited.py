"""CSV/TSV: a column per lead, lead names in the header row, an optional time column.

The sampling rate is the request's ``fs`` or, failing that, the time column's spacing (seconds, or
milliseconds when the column's name says ms). Values are mV unless the request gives ``units``.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from ..errors import InputError
from ..settings import Limits
from ..signal import unit_scale
from .assemble import build_recording, lead_name
from .model import EcgFile

TIME_COLUMNS = ("time", "t", "time_s", "time_ms", "seconds", "ms", "timestamp")
_EVEN_SPACING = 0.01  # time steps may differ from their median by this fraction (rounding in the file)


def read_delimited(data: bytes, field: str, limits: Limits, fs: float | None = None,
                   units: str | None = None) -> EcgFile:
    fmt = "csv"
    rows = data.count(b"\n")
    if rows > limits.max_samples + 1:
        raise InputError(field, f"{fmt}: recording too long: {rows} rows; the limit is {limits.max_samples} samples")
    try:
        text = data.decode("utf-8-sig")
        delimiter, _ = header_columns(text)
        table = pd.read_csv(io.StringIO(text), sep=delimiter, skipinitialspace=True)
    except (UnicodeDecodeError, csv.Error, ValueError, pd.errors.ParserError):
        raise InputError(field, f"{fmt}: not a table of numbers with a header row naming the leads") from None
    columns = [str(column).strip() for column in table.columns]
    time_columns = [c for c in columns if c.lower() in TIME_COLUMNS]
    unknown = [c for c in columns if c not in time_columns and lead_name(c) is None]
    if unknown:
        raise InputError(field, f"{fmt}: column {unknown[0][:30]!r} is neither a lead (I, II, V1, ...) "
                         f"nor a time column ({', '.join(TIME_COLUMNS)})")
    values = {}
    for raw, column in zip(table.columns, columns):
        series = pd.to_numeric(table[raw], errors="coerce")
        if series.isna().sum() > table[raw].isna().sum():
            raise InputError(field, f"{fmt}: column {column[:30]!r} holds values that are not numbers")
        values[column] = series.to_numpy(dtype=np.float64)
    if fs is None:
        if not time_columns:
            raise InputError(field, f"{fmt}: no sampling rate: give inputs.fs or a time column "
                             f"({', '.join(TIME_COLUMNS)})")
        fs = _rate_from_time(values[time_columns[0]], time_columns[0], fmt, field)
    scale = unit_scale(units, f"{field.rpartition('.')[0] or 'inputs'}.units")  # the request field beside file
    leads = [(column, values[column] * scale) for column in columns if column not in time_columns]
    return EcgFile(format=fmt, recording=build_recording(leads, float(fs), fmt, field, limits))


def header_columns(text: str) -> tuple[str, list[str]]:
    """The delimiter and column names of the header row; one column (a single lead) has no delimiter."""
    lines = text.lstrip().splitlines()
    if not lines:
        raise csv.Error("no header row")
    first = lines[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        if lead_name(first.strip()) is None:
            raise
        delimiter = ","
    return delimiter, next(csv.reader([first], delimiter=delimiter))


def _rate_from_time(time: np.ndarray, name: str, fmt: str, field: str) -> float:
    steps = np.diff(time)
    if steps.size < 2 or not np.isfinite(steps).all():
        raise InputError(field, f"{fmt}: time column {name!r} is incomplete")
    step = float(np.median(steps))
    if step <= 0 or np.abs(steps - step).max() > _EVEN_SPACING * step:
        raise InputError(field, f"{fmt}: time column {name!r} is not evenly spaced and increasing")
    seconds = step / 1000 if "ms" in name.lower() else step
    return round(1.0 / seconds, 3)  # a time column rounded to ms gives 249.99999…
