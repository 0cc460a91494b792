"""ECG files from real carts and databases read to consistent, plausible recordings with the cart's findings."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from conftest import fixture_path
from ecg_core.files import EcgFile, read_ecg_file
from ecg_core.measure import measure
from ecg_core.settings import Limits
from ecg_files import CART_FILES, DICOM_STATED, cart_file_bytes, dicom_bytes, wfdb_zip

LIMITS = Limits()
EINTHOVEN_MV = 0.01 + 1e-9  # III = II − I to 0.01 mV (files store each lead rounded to a few µV)
# aVF = (II + III) / 2: the Philips HeartStart stores every limb lead on its own, in 5 µV steps, and its
# aVF is up to 12.5 µV off (II + III) / 2 (measured on the fixture): 0.015 mV allows that and no more.
GOLDBERGER_MV = 0.015


def record_path(folder: str, record: str) -> str:
    return str(fixture_path(folder, record + ".hea").with_suffix(""))


def lead(ecg: EcgFile, name: str) -> np.ndarray:
    return ecg.recording.signal[ecg.recording.lead_names.index(name)]


def assert_consistent_twelve_leads(ecg: EcgFile) -> None:
    assert ecg.recording.lead_names == ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    one, two, three = lead(ecg, "I"), lead(ecg, "II"), lead(ecg, "III")
    assert np.abs(three - (two - one)).max() <= EINTHOVEN_MV
    assert np.abs(lead(ecg, "aVF") - (two + three) / 2).max() <= GOLDBERGER_MV
    assert np.abs(lead(ecg, "aVR") + (one + two) / 2).max() <= GOLDBERGER_MV


def assert_plausible_amplitudes(ecg: EcgFile) -> None:
    spans = np.ptp(ecg.recording.signal, axis=1)
    assert 0.3 < np.median(spans) < 5.0, spans  # mV: a resting ECG's leads span about 0.5–3 mV
    assert spans.max() < 10.0


@pytest.mark.parametrize("name, parts, fmt, stated", CART_FILES, ids=[c[0] for c in CART_FILES])
def test_cart_file_reads_with_its_measurements(name, parts, fmt, stated):
    ecg = read_ecg_file(cart_file_bytes(parts), limits=LIMITS)
    assert ecg.format == fmt
    assert_consistent_twelve_leads(ecg)
    assert_plausible_amplitudes(ecg)
    assert ecg.recording.duration_s >= 9.9
    for key, value in stated.items():
        assert ecg.cart_measurements[key] == value, key
    ours = measure(ecg.recording.signal, ecg.recording.fs, ecg.recording.lead_names)
    cart_rate = ecg.cart_measurements.get("heart_rate")
    if cart_rate is not None:
        assert abs(ours["heart_rate"] - cart_rate) <= 3, (ours["heart_rate"], cart_rate)


def test_eight_stored_leads_become_twelve():
    ecg = read_ecg_file(cart_file_bytes(("formats", "ge_muse", "muse_simulator_1.xml")), limits=LIMITS)
    assert any("III, aVR, aVL, aVF derived from I and II" in note for note in ecg.recording.notes)


def test_philips_calibration_pulse_is_cut():
    """The PageWriter file ends with ~0.4 s of 1 mV calibration pulse in every lead (fixtures README)."""
    ecg = read_ecg_file(cart_file_bytes(("formats", "philips", "pagewriter_tc_sinus.xml")), limits=LIMITS)
    assert 10.0 <= ecg.recording.duration_s <= 10.7
    assert any("calibration pulse cut at the end" in note for note in ecg.recording.notes)
    tail = ecg.recording.signal[:, -int(0.1 * ecg.recording.fs):]
    assert np.ptp(tail, axis=0).max() > 0.01  # the leads differ again: real signal up to the end


def test_philips_statements_and_per_lead_measurements():
    ecg = read_ecg_file(cart_file_bytes(("formats", "philips", "heartstart_mrx_simulator.xml")), limits=LIMITS)
    assert any(statement.startswith("Sinus rhythm") for statement in ecg.cart_statements)
    assert any("Acute MI" in statement for statement in ecg.cart_statements)
    assert set(ecg.cart_lead_measurements) >= {"I", "II", "V1", "V6"}
    assert isinstance(ecg.cart_lead_measurements["I"]["ramp"], int)  # R amplitude (µV), a number not text
    assert ecg.sex == "M" and ecg.age_years == 50


def test_staff_names_stay_out_of_statements():
    """The GE file's report is signed "Confirmed by Doe, John (123456)": a name, not a finding."""
    ecg = read_ecg_file(cart_file_bytes(("formats", "ge_muse", "muse_simulator_1.xml")), limits=LIMITS)
    assert ecg.cart_statements and not any("Doe" in statement for statement in ecg.cart_statements)


def test_dicom_waveform_with_cart_measurements():
    ecg = read_ecg_file(dicom_bytes(), limits=LIMITS)
    assert ecg.format == "dicom" and ecg.recording.fs == 1000
    assert_consistent_twelve_leads(ecg)
    assert_plausible_amplitudes(ecg)
    for key, value in DICOM_STATED.items():
        assert ecg.cart_measurements[key] == value, key
    ours = measure(ecg.recording.signal, ecg.recording.fs, ecg.recording.lead_names)
    assert abs(ours["rr_interval"] - DICOM_STATED["rr_interval"]) <= 30
    assert ecg.sex == "F"


def test_mitbih_zip_matches_wfdb_and_its_annotations():
    ecg = read_ecg_file(wfdb_zip("mitbih", "100"), limits=LIMITS)
    record = wfdb.rdrecord(record_path("mitbih", "100"))
    assert ecg.format == "wfdb" and ecg.recording.fs == 360 and ecg.recording.lead_names == ("II", "V5")
    np.testing.assert_allclose(ecg.recording.signal, record.p_signal.T, atol=1e-9)
    beats = wfdb.rdann(record_path("mitbih", "100"), "atr")
    annotated_rate = 60 * (len(beats.sample) - 1) / ((beats.sample[-1] - beats.sample[0]) / 360)
    first_minutes = ecg.recording.signal[:, : 360 * 120]
    ours = measure(first_minutes, 360, ("II", "V5"))
    assert abs(ours["heart_rate"] - annotated_rate) <= 3


@pytest.mark.parametrize("record", ["10", "20", "100"])
def test_ludb_zip_reads_all_twelve_leads_like_wfdb(record):
    """LUDB headers normalise each lead's gain (fixtures README), so leads are compared with wfdb, not Einthoven."""
    ecg = read_ecg_file(wfdb_zip("ludb", record), limits=LIMITS)
    reference = wfdb.rdrecord(record_path("ludb", record))
    assert ecg.recording.lead_names == ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    assert ecg.recording.fs == 500 and ecg.recording.signal.shape == (12, 5000)
    order = [[name.lower() for name in reference.sig_name].index(n.lower()) for n in ecg.recording.lead_names]
    np.testing.assert_allclose(ecg.recording.signal, reference.p_signal.T[order], atol=1e-9)
    assert ecg.age_years is not None and ecg.sex in ("M", "F")
    assert any(statement.startswith("Rhythm:") for statement in ecg.cart_statements)
