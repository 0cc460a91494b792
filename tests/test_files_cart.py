"""What the carts state beyond their printed numbers, read as the files hold it, and a QTc whose formula the
file does not state compared by the formula the cart's own QT and RR reproduce.

Values the readers derive are checked against the files read here independently: the aECG's XML with
regular expressions, the SCP-ECG's section 7 from its bytes (EN 1064 layout), not through ecgdatakit.
"""

from __future__ import annotations

import math
import re
import struct

import pytest

from ecg_core.files import read_ecg_file
from ecg_core.files.compare import measurement_vs_cart
from ecg_core.measure import measure
from ecg_core.qtc import infer_formula
from ecg_core.settings import Limits
from ecg_core.ui.ranges import measurement_table
from ecg_files import cart_file_bytes, dicom_bytes

AECG = ("formats", "hl7_aecg", "example_aecg.xml")
HEARTSTART = ("formats", "philips", "heartstart_mrx_simulator.xml")
SCP = {year: ("formats", "scp", f"welchallyn_simulator_{year}.scp") for year in (2007, 2008)}


def _read(data: bytes):
    return read_ecg_file(data, limits=Limits())


def _measured(ecg) -> dict:
    return measure(ecg.recording.signal, ecg.recording.fs, ecg.recording.lead_names)


def _aecg_device_qrs_onsets_s(text: str) -> list[float]:
    """QRS onsets (s of the day) of the beats in the first annotation set, which the ELI 250 authored."""
    first_set = text[text.index("<annotationSet>"):text.index("</annotationSet>")]
    assert "<assignedDevice>" in first_set and "<assignedPerson>" not in first_set
    onsets = re.findall(r'code="MDC_ECG_WAVC_QRSWAVE".*?<low value="\d{8}(\d\d)(\d\d)(\d\d\.\d+)"', first_set,
                        re.DOTALL)
    return [3600 * int(h) + 60 * int(m) + float(s) for h, m, s in onsets]


def _scp_section7(data: bytes) -> tuple[int, tuple[int, ...]]:
    """The mean RR and the first measurement block (P on/off, QRS on/off, T off, ms) of an SCP-ECG file."""
    section0_length = struct.unpack_from("<I", data, 6 + 4)[0]  # after the record's CRC and length
    pointers = {}
    for position in range(6 + 16, 6 + section0_length, 10):  # ID, length, 1-based index
        section, length, index = struct.unpack_from("<HII", data, position)
        pointers[section] = index
    body = pointers[7] - 1 + 16  # past the section's own 16-byte header
    _, _, rr_ms, _ = struct.unpack_from("<BBHH", data, body)
    return rr_ms, struct.unpack_from("<5H", data, body + 6)


def test_aecg_rate_comes_from_the_devices_annotated_beats():
    data = cart_file_bytes(AECG)
    onsets = _aecg_device_qrs_onsets_s(data.decode())
    assert len(onsets) == 12  # the human reader's set has no beats; the derived series' set none either
    rr_ms = 1000 * sum(later - earlier for earlier, later in zip(onsets, onsets[1:])) / (len(onsets) - 1)
    cart = _read(data).cart_measurements
    assert cart["rr_interval"] == pytest.approx(rr_ms, abs=0.05)
    assert cart["heart_rate"] == pytest.approx(60000 / rr_ms, abs=0.05)
    assert cart["qt_interval"] == 420 and cart["qtc"] == 443  # as the fixtures' README lists them


def test_beats_annotated_by_a_person_give_no_cart_rate():
    """The same file with the first annotation set's author made a person (an over-reader): no cart rate."""
    text = cart_file_bytes(AECG).decode()
    start, end = text.index("<annotationSet>"), text.index("</annotationSet>")
    by_a_person = text[:start] + text[start:end].replace("assignedDevice>", "assignedPerson>") + text[end:]
    cart = _read(by_a_person.encode()).cart_measurements
    assert "rr_interval" not in cart and "heart_rate" not in cart and cart["qt_interval"] == 420


@pytest.mark.parametrize("year", [2007, 2008])
def test_scp_reference_beat_boundaries_become_intervals(year):
    data = cart_file_bytes(SCP[year])
    rr_ms, (p_on, p_off, qrs_on, qrs_off, t_off) = _scp_section7(data)
    cart = _read(data).cart_measurements
    assert cart["rr_interval"] == rr_ms
    assert cart["qrs_duration"] == qrs_off - qrs_on and cart["qt_interval"] == t_off - qrs_on
    if year == 2007:
        assert cart["pr_interval"] == qrs_on - p_on and cart["p_duration"] == p_off - p_on
    else:  # 29999: the cart did not find the P wave, so there is no PR to compare
        assert p_on == p_off == 29999 and "pr_interval" not in cart and "p_duration" not in cart
    # the cart's own Bazett QTc is its QT at its RR: the boundaries are the ones it measured QT from
    assert cart["qtc_bazett"] == pytest.approx(cart["qt_interval"] / math.sqrt(rr_ms / 1000), abs=1.5)


def test_a_cart_stating_only_its_rr_has_the_rate_of_that_rr():
    cart = _read(dicom_bytes()).cart_measurements
    assert cart["rr_interval"] == 982 and cart["heart_rate"] == pytest.approx(60000 / 982, abs=0.05)


def test_the_mortara_qtc_is_not_bazett():
    """QT 420, QTc 443, RR ≈ 838 ms from its beats: Bazett would give 459, the others 440–446."""
    ecg = _read(cart_file_bytes(AECG))
    ours = _measured(ecg)
    qtc = measurement_vs_cart(ours, ecg.cart_measurements)["qtc"]
    assert qtc["cart"] == 443 and qtc["formula"] in ("fridericia", "framingham", "hodges")
    assert qtc["compared_with"].lower().count(qtc["formula"]) >= 2 and "Bazett 459" in qtc["compared_with"]
    rr_s = ours["rr_interval"] / 1000
    qt_ms = ours["qt_interval"]
    by_formula = {"fridericia": qt_ms / rr_s ** (1 / 3), "framingham": qt_ms + 154 * (1 - rr_s),
                  "hodges": qt_ms + 1.75 * (60 / rr_s - 60)}
    assert qtc["ours"] == pytest.approx(by_formula[qtc["formula"]], abs=0.2)  # our QT, our RR, the cart's formula
    assert qtc["difference"] == pytest.approx(qtc["ours"] - 443, abs=0.06)


def test_the_heartstart_qtc_is_bazett():
    """QT 385 at 72 bpm: Bazett gives 422, what the file states; the others 406–411."""
    ecg = _read(cart_file_bytes(HEARTSTART))
    ours = _measured(ecg)
    qtc = measurement_vs_cart(ours, ecg.cart_measurements)["qtc"]
    assert qtc["formula"] == "bazett" and qtc["ours"] == ours["qtc_bazett"] and qtc["cart"] == 422


@pytest.mark.parametrize("formula, qtc_ms", [("bazett", 500.0), ("fridericia", 400 / 0.64 ** (1 / 3)),
                                             ("framingham", 400 + 154 * 0.36), ("hodges", 400 + 1.75 * 33.75)])
def test_each_formula_is_recognised_from_qt_and_rr(formula, qtc_ms):
    assert infer_formula(400, 640, round(qtc_ms)).formula == formula  # 93.75 bpm: the formulas differ widely


def test_a_qtc_no_formula_reproduces_falls_back_to_bazett_and_says_so():
    ours = {"qt_interval": 400.0, "rr_interval": 640.0, "qtc_bazett": 500.0}
    qtc = measurement_vs_cart(ours, {"qt_interval": 400, "heart_rate": 93.75, "qtc": 470})["qtc"]
    assert qtc["formula"] is None and qtc["ours"] == 500.0 and "none reproduces" in qtc["compared_with"]
    without_qt = measurement_vs_cart(ours, {"qtc": 470})["qtc"]
    assert without_qt["formula"] is None and "nor the QT" in without_qt["compared_with"]


def test_the_page_sets_the_carts_qtc_beside_ours_by_the_same_formula():
    cart = {"qt_interval": 400, "heart_rate": 93.75, "qtc": 455}  # Framingham: 400 + 154 * 0.36 = 455
    measurements = {"qt_interval": 410.0, "rr_interval": 640.0, "qtc_bazett": 512.5, "qtc_fridericia": 476.6}
    result = {"measurements": measurements, "cart_measurements": cart,
              "measurement_vs_cart": measurement_vs_cart(measurements, cart)}
    rows = {row["key"]: row for row in measurement_table(result)}
    assert rows["qtc_bazett"]["cart"] is None and rows["qtc_fridericia"]["cart"] is None
    assert "Framingham" in rows["qtc"]["label"] and rows["qtc"]["cart"] == 455
    assert rows["qtc"]["value"] == pytest.approx(410 + 154 * 0.36, abs=0.1)
    cart["qtc"] = 500  # Bazett: 400 / 0.8
    result["measurement_vs_cart"] = measurement_vs_cart(measurements, cart)
    rows = {row["key"]: row for row in measurement_table(result)}
    assert rows["qtc_bazett"]["cart"] == 500 and "qtc" not in rows
