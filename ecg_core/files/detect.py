"""Which format a file is, from its content: magic bytes, the XML root, a CSV header.

The cart and database formats are recognised by ecgdatakit's own sniffers (the same ones its parser
dispatches with), given a name without an extension so that only the bytes decide.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ecgdatakit import FileParser

from .assemble import lead_name
from .delimited import header_columns
from .vendor import PARSER_FORMATS

_SNIFF_BYTES = 4096
_EDF_MAGIC = (b"0       ", b"\xffBIOSEMI")  # EDF/EDF+ and BDF/BDF+ headers start so


def detect_format(data: bytes) -> str | None:
    """Our format name, or a library's name for a format we do not read (e.g. "MFER"), or None."""
    head = data[:_SNIFF_BYTES]
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[:8] in _EDF_MAGIC:
        return "edf"
    anonymous = Path("upload")
    for parser in FileParser().parsers:
        try:
            claimed = parser.can_parse(anonymous, head)
        except Exception:  # a sniffer tripping over arbitrary bytes only means "not mine"
            claimed = False
        if claimed:
            return PARSER_FORMATS.get(parser.__name__, parser.FORMAT_NAME or parser.__name__)
    if is_wfdb_header(head):
        return "wfdb_header"
    if looks_delimited(head):
        return "csv"
    return None


def is_wfdb_header(head: bytes) -> bool:
    wfdb = next(p for p in FileParser().parsers if p.__name__ == "WFDBParser")
    try:
        return bool(wfdb.can_parse(Path("upload.hea"), head))
    except Exception:
        return False


def looks_delimited(head: bytes) -> bool:
    """Text whose header row names columns, at least one of them a lead (a time column may come first)."""
    try:  # "replace": the sniffed head may end inside a multi-byte character
        _, columns = header_columns(head.decode("utf-8-sig", errors="replace"))
    except csv.Error:
        return False
    return any(lead_name(column) for column in columns)
