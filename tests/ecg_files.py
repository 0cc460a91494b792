"""The real ECG files the file tests read, in place under ../shared/fixtures (skipped when absent)."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest

from conftest import fixture_path

# (name, path under fixtures/formats, format, what the fixtures' README says the cart stored)
CART_FILES = [
    ("philips_pagewriter", ("formats", "philips", "pagewriter_tc_sinus.xml"), "philips",
     {"heart_rate": 64, "pr_interval": 164, "qrs_duration": 102, "qt_interval": 399, "qtc_bazett": 412,
      "p_axis": 27, "qrs_axis": 22, "t_axis": 80}),
    ("philips_heartstart", ("formats", "philips", "heartstart_mrx_simulator.xml"), "philips",
     {"heart_rate": 72, "pr_interval": 151, "qrs_duration": 97, "qt_interval": 385, "p_axis": 68,
      "qrs_axis": 55, "t_axis": -1}),
    ("ge_muse_1", ("formats", "ge_muse", "muse_simulator_1.xml"), "ge_muse",
     {"heart_rate": 60, "pr_interval": 158, "qrs_duration": 78, "qt_interval": 364}),
    ("ge_muse_2", ("formats", "ge_muse", "muse_simulator_2.xml"), "ge_muse",
     {"heart_rate": 60, "pr_interval": 158, "qrs_duration": 80, "qt_interval": 366}),
    ("scp_2007", ("formats", "scp", "welchallyn_simulator_2007.scp"), "scp", {}),
    ("scp_2008", ("formats", "scp", "welchallyn_simulator_2008.scp"), "scp", {}),
    ("hl7_aecg", ("formats", "hl7_aecg", "example_aecg.xml"), "hl7_aecg",
     {"pr_interval": 148, "qrs_duration": 120, "qt_interval": 420, "qtc": 443, "p_axis": 44, "qrs_axis": -61,
      "t_axis": 86}),
]
# pydicom's example: the fixtures' README lists its cart measurements
DICOM_STATED = {"rr_interval": 982, "pr_interval": 161, "qrs_duration": 75, "qt_interval": 368, "qtc": 370,
                "p_axis": 74, "qrs_axis": 52, "t_axis": 57}


def cart_file_bytes(parts: tuple[str, ...]) -> bytes:
    return fixture_path(*parts).read_bytes()


def dicom_bytes() -> bytes:
    examples = pytest.importorskip("pydicom.examples")
    return examples.get_path("waveform").read_bytes()


def wfdb_zip(folder: str, record: str) -> bytes:
    """A WFDB record's .hea and .dat, zipped in memory as a client would send them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix in (".hea", ".dat"):
            archive.write(fixture_path(folder, record + suffix), record + suffix)
    return buffer.getvalue()


def all_file_bytes() -> dict[str, bytes]:
    files = {name: cart_file_bytes(parts) for name, parts, _, _ in CART_FILES}
    files["dicom"] = dicom_bytes()
    files["ludb_10"] = wfdb_zip("ludb", "10")
    return files


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
