"""A WFDB record sent as a zip (its .hea with the .dat it names): members checked before any is extracted.

Checks, from the zip's directory: member count, total uncompressed size, names (no absolute paths, no
``..``), supported compression, no encryption, exactly one record header. Extraction then reads at most
the declared size of each member, so a directory that lies about sizes cannot make it write more.
"""

from __future__ import annotations

import io
import lzma
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import wfdb

from ..errors import InputError
from ..settings import Limits
from . import vendor
from .model import EcgFile

_COMPRESSIONS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def read_wfdb_zip(data: bytes, field: str, limits: Limits) -> EcgFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise InputError(field, "zip: truncated or corrupt archive") from None
    except NotImplementedError as error:  # e.g. "zip file version 8.4": a newer or damaged directory
        raise InputError(field, f"zip: unsupported archive ({str(error)[:40]})") from None
    with archive, tempfile.TemporaryDirectory(prefix="ecg_wfdb_") as folder:
        members = _checked_members(archive, field, limits)
        headers = [info for info in members if info.filename.lower().endswith(".hea")]
        if len(headers) != 1:
            raise InputError(field, f"wfdb: the zip must hold one record header (.hea) with its signal file(s); "
                             f"found {len(headers)} headers")
        for info in members:
            _extract(archive, info, Path(folder), field)
        header = Path(folder) / PurePosixPath(headers[0].filename).name
        _check_declared_samples(header, field, limits)
        return vendor.read_path(header, "wfdb", field, limits)


def _checked_members(archive: zipfile.ZipFile, field: str, limits: Limits) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > limits.max_archive_members:
        raise InputError(field, f"zip: {len(members)} members; at most {limits.max_archive_members} are accepted")
    total = sum(info.file_size for info in members)
    if total > limits.max_decompressed_bytes:
        raise InputError(field, f"zip: {total} bytes uncompressed; at most {limits.max_decompressed_bytes} "
                         "are accepted")
    names = set()
    for info in members:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or ":" in info.filename:
            raise InputError(field, "zip: a member's path leaves the archive (absolute or with '..')")
        if info.flag_bits & 0x1:
            raise InputError(field, "zip: encrypted members are not supported")
        if info.compress_type not in _COMPRESSIONS:
            raise InputError(field, f"zip: unsupported compression (method {info.compress_type}); "
                             "use deflate or store")
        if path.name in names:
            raise InputError(field, f"zip: two members are named {path.name[:40]!r}")
        names.add(path.name)
    return members


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, field: str) -> None:
    try:
        with archive.open(info) as source:
            content = source.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError):  # RuntimeError: a member needs a password
        raise InputError(field, "zip: truncated or corrupt member data") from None
    if len(content) > info.file_size:
        raise InputError(field, "zip: a member is larger than the archive declares")
    (folder / PurePosixPath(info.filename.replace("\\", "/")).name).write_bytes(content)


def _check_declared_samples(header: Path, field: str, limits: Limits) -> None:
    """The header states the record's length: refuse a long one before its signal is decoded."""
    try:
        record = wfdb.rdheader(str(header.with_suffix("")))
    except Exception:  # wfdb raises bare ValueError/IndexError/KeyError on malformed header text
        raise InputError(field, "wfdb: the header (.hea) cannot be read") from None
    if record.sig_len and record.sig_len > limits.max_samples:
        raise InputError(field, f"wfdb: recording too long: {record.sig_len} samples per lead; "
                         f"the limit is {limits.max_samples}")
