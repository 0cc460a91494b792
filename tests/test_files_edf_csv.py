"""EDF/BDF and CSV/TSV: files written from a real recording (pydicom's 12-lead example) read back to it."""

from __future__ import annotations

import datetime

import edfio
import numpy as np
import pytest

from ecg_core.errors import InputError
from ecg_core.files import read_ecg_file
from ecg_core.settings import Limits
from ecg_files import dicom_bytes

LIMITS = Limits()


@pytest.fixture(scope="module")
def reference():
    """The DICOM example as read by the DICOM path (tested against its cart in test_files_reader)."""
    return read_ecg_file(dicom_bytes(), limits=LIMITS).recording


def edf_bytes(recording, bdf: bool = False, names=None, unit="uV", prefiltering=None) -> bytes:
    """``prefiltering``: each lead's EDF+ prefiltering field, in lead order (default: empty)."""
    kind = edfio.BdfSignal if bdf else edfio.EdfSignal
    names = names or recording.lead_names
    signals = [kind(row * 1000, recording.fs, label=f"ECG {name}", physical_dimension=unit,
                    physical_range=(-10_000, 10_000), prefiltering=text)
               for row, name, text in zip(recording.signal, names, prefiltering or [""] * len(names))]
    signals.append(kind(np.zeros(recording.signal.shape[1] // 10), recording.fs / 10, label="Resp"))
    patient = edfio.Patient(code="MRN123", sex="F", birthdate=datetime.date(1980, 6, 1), name="Jane_Doe")
    record = (edfio.Bdf if bdf else edfio.Edf)(signals, patient=patient,
                                              recording=edfio.Recording(startdate=datetime.date(2022, 6, 1)))
    return _written(record)


def _written(record) -> bytes:
    import io
    buffer = io.BytesIO()
    record.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("bdf", [False, True], ids=["edf", "bdf"])
def test_edf_and_bdf_read_back(reference, bdf):
    ecg = read_ecg_file(edf_bytes(reference, bdf=bdf), limits=LIMITS)
    assert ecg.format == "edf" and ecg.recording.fs == reference.fs
    assert ecg.recording.lead_names == reference.lead_names
    resolution_mv = 20_000 / (2 ** (24 if bdf else 16)) / 1000  # physical range over digital steps, in mV
    np.testing.assert_allclose(ecg.recording.signal, reference.signal, atol=resolution_mv)
    assert ecg.sex == "F" and ecg.age_years == 42.0
    assert any("Resp" in note for note in ecg.recording.notes)  # the non-ECG signal is left out, and said so
    assert ecg.recording.filters is None  # the fields are empty


def test_edf_prefiltering_states_the_filters(reference):
    """EDF+'s "HP:0.05Hz LP:150Hz N:50Hz"; where the leads differ, the narrowest band; "HP:DC" is no high-pass."""
    fields = ["HP:0.05Hz LP:150Hz N:50Hz"] * len(reference.lead_names)
    fields[3], fields[7] = "HP:0.5Hz LP:40Hz N:50Hz", "HP:DC LP:0.1kHz"
    fields[9] = "LP:none HP:0Hz"  # no number, and a 0 Hz high-pass ("not set"): nothing stated
    ecg = read_ecg_file(edf_bytes(reference, prefiltering=fields), limits=LIMITS)
    assert (ecg.recording.filters.highpass_hz, ecg.recording.filters.lowpass_hz,
            ecg.recording.filters.notch_hz) == (0.5, 40.0, 50.0)


def test_edf_without_a_voltage_unit_is_refused(reference):
    with pytest.raises(InputError, match=r"^inputs.file: edf: a calibration that makes no sense"):
        read_ecg_file(edf_bytes(reference, unit="degC"), limits=LIMITS)


def test_edf_leads_at_different_rates_are_refused(reference):
    signals = [edfio.EdfSignal(reference.signal[0], 1000, label="ECG I", physical_dimension="mV"),
               edfio.EdfSignal(reference.signal[1, ::2], 500, label="ECG II", physical_dimension="mV")]
    with pytest.raises(InputError, match=r"^inputs.file: edf: leads sampled at different rates \(500, 1000 Hz\)$"):
        read_ecg_file(_written(edfio.Edf(signals)), limits=LIMITS)


def test_discontinuous_edf_is_refused(reference):
    data = bytearray(edf_bytes(reference))
    data[192:197] = b"EDF+D"  # the header's "reserved" field marks EDF+ discontinuous records
    with pytest.raises(InputError, match=r"^inputs.file: edf: discontinuous recordings \(EDF\+D/BDF\+D\)"):
        read_ecg_file(bytes(data), limits=LIMITS)


def _table(recording, separator: str, time_column: str | None) -> bytes:
    header = ([time_column] if time_column else []) + list(recording.lead_names)
    lines = [separator.join(header)]
    for index in range(recording.signal.shape[1]):
        row = [f"{v:.4f}" for v in recording.signal[:, index]]
        if time_column:
            scale = 1000 if "ms" in time_column else 1
            row.insert(0, f"{index / recording.fs * scale:.4f}")
        lines.append(separator.join(row))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("separator, time_column, fs", [(",", "time", None), ("\t", "time_ms", None),
                                                        (";", None, 1000.0)], ids=["csv-s", "tsv-ms", "fs-given"])
def test_csv_and_tsv_read_back(reference, separator, time_column, fs):
    ecg = read_ecg_file(_table(reference, separator, time_column), fs=fs, limits=LIMITS)
    assert ecg.format == "csv" and ecg.recording.fs == pytest.approx(1000.0)
    assert ecg.recording.lead_names == reference.lead_names
    np.testing.assert_allclose(ecg.recording.signal, reference.signal, atol=5e-5)


def test_single_lead_csv(reference):
    column = "\n".join(f"{value:.4f}" for value in reference.signal[1])
    ecg = read_ecg_file(f"II\n{column}\n".encode(), fs=1000, limits=LIMITS)
    assert ecg.recording.lead_names == ("II",)
    np.testing.assert_allclose(ecg.recording.signal[0], reference.signal[1], atol=5e-5)


def test_csv_needs_a_rate():
    with pytest.raises(InputError, match="csv: no sampling rate: give inputs.fs or a time column"):
        read_ecg_file(b"I,II\n" + b"0.1,0.2\n" * 3000, limits=LIMITS)
