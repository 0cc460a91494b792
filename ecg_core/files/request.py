"""``inputs.file`` (base64 or a data URI, with an optional ``inputs.format``) → an `EcgFile`.

With a file, the file is the recording: ``signal`` and ``lead_names`` are refused (the file names its
leads), and ``fs``/``units`` are accepted only for CSV/TSV, which do not state them.
"""

from __future__ import annotations

from typing import Any

from .. import encoded
from ..errors import InputError
from ..settings import Limits
from ..signal import parse_fs, unit_scale
from .model import EcgFile
from .reader import read_ecg_file


def parse_file_input(item: dict, prefix: str, limits: Limits) -> EcgFile:
    for key in ("signal", "lead_names"):
        if key in item:
            raise InputError(f"{prefix}.{key}", "not used with inputs.file: the file holds the signal and names "
                             "its leads; send one or the other")
    fs = parse_fs(item, prefix, limits, []) if ("fs" in item or "sampling_rate" in item) else None
    units = item.get("units")
    if units is not None:
        unit_scale(units, f"{prefix}.units")  # a bad unit is named here, whatever the format
    data = file_bytes(item["file"], f"{prefix}.file", limits)
    return read_ecg_file(data, format_hint=item.get("format"), limits=limits, field=f"{prefix}.file",
                         fs=fs, units=units)


def file_bytes(value: Any, field: str, limits: Limits) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, f"expected the file as base64 text or a data URI, got "
                         f"{'empty text' if isinstance(value, str) else type(value).__name__}")
    text = value.strip()
    if text[:5].lower() == "data:":
        _, text = encoded.split_data_uri(text, field)
    return encoded.decode_base64(text, field, limits.max_file_bytes, "file")
