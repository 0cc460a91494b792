"""ECG files through the handler: ``inputs.file`` on every signal task and in batches."""

from __future__ import annotations

import pytest

from ecg_files import DICOM_STATED, b64, cart_file_bytes, dicom_bytes, wfdb_zip

PAGEWRITER = ("formats", "philips", "pagewriter_tc_sinus.xml")


def test_measure_a_file_gives_cart_measurements_beside_ours(demo_handler):
    [result] = demo_handler({"inputs": {"file": b64(cart_file_bytes(PAGEWRITER)), "task": "measure"}})
    assert result["recording"]["format"] == "philips"
    assert result["recording"]["lead_names"][:3] == ["I", "II", "III"]
    assert result["cart_measurements"]["qrs_duration"] == 102
    assert any(s.startswith("Sinus rhythm") for s in result["cart_statements"])
    rate = result["measurement_vs_cart"]["heart_rate"]
    assert rate["cart"] == 64 and rate["ours"] == result["measurements"]["heart_rate"]
    assert rate["difference"] == pytest.approx(rate["ours"] - 64, abs=0.051)
    assert abs(rate["difference"]) <= 3
    assert "qtc" not in result["cart_measurements"]  # the file states its QTc as Bazett's: no formula-less copy


def test_a_qtc_without_its_formula_is_set_beside_our_bazett(demo_handler):
    heartstart = b64(cart_file_bytes(("formats", "philips", "heartstart_mrx_simulator.xml")))
    [result] = demo_handler({"inputs": {"file": heartstart, "task": "measure"}})
    qtc = result["measurement_vs_cart"]["qtc"]
    assert qtc["cart"] == 422 and qtc["ours"] == result["measurements"]["qtc_bazett"]
    assert qtc["compared_with"].startswith("our qtc_bazett")


def test_analyze_a_dicom_data_uri(demo_handler):
    uri = "data:application/dicom;base64," + b64(dicom_bytes())
    [result] = demo_handler({"inputs": {"file": uri, "format": "dicom"}})
    assert result["task"] == "analyze" and result["weights"] == "demo"
    assert result["recording"]["format"] == "dicom" and result["recording"]["fs"] == 1000
    assert result["cart_measurements"]["pr_interval"] == DICOM_STATED["pr_interval"]
    assert result["measurement_vs_cart"]["pr_interval"]["cart"] == DICOM_STATED["pr_interval"]
    assert "clinical_analysis" in result


def test_batch_of_files_and_signals(demo_handler):
    files = [b64(wfdb_zip("ludb", "10")), b64(cart_file_bytes(("formats", "scp", "welchallyn_simulator_2008.scp")))]
    results = demo_handler({"inputs": [{"file": files[0], "task": "quality"}, {"file": files[1], "task": "measure"},
                                       {"signal": [[0.0] * 1000], "fs": 250, "task": "quality"}]})
    assert [r["recording"].get("format") for r in results] == ["wfdb", "scp", None]
    assert "measurement_vs_cart" not in results[0]  # quality measures nothing to compare
    assert results[1]["cart_measurements"]["heart_rate"] == 80


def test_a_format_hint_without_a_file_is_refused(demo_handler):
    from ecg_core.errors import InputError

    with pytest.raises(InputError, match=r"^inputs\[1\]\.format: a format hint goes with inputs.file"):
        demo_handler({"inputs": [{"signal": [[0.0] * 1000], "fs": 250, "task": "quality"},
                                 {"signal": [[0.0] * 1000], "fs": 250, "format": "csv", "task": "quality"}]})


@pytest.mark.parametrize("extra, field", [({"signal": [[0.0] * 1000]}, "inputs.signal"),
                                          ({"lead_names": ["I"]}, "inputs.lead_names"),
                                          ({"fs": 500}, "inputs.fs")])
def test_signal_fields_beside_a_file_are_refused(demo_handler, extra, field):
    from ecg_core.errors import InputError

    with pytest.raises(InputError) as caught:
        demo_handler({"inputs": {"file": b64(cart_file_bytes(PAGEWRITER)), **extra}})
    assert str(caught.value).startswith(field + ":")


def test_a_file_with_a_question_goes_to_pulse_with_its_analysis(demo_handler):
    scp = b64(cart_file_bytes(("formats", "scp", "welchallyn_simulator_2008.scp")))
    [result] = demo_handler({"inputs": {"file": scp, "query": "What is the rhythm?"},
                             "parameters": {"max_new_tokens": 4}})
    assert result["task"] == "generate" and isinstance(result["generated_text"], str)
    assert result["signal_analysis"]["recording"]["lead_names"][:3] == ["I", "II", "III"]


def test_a_file_feeds_a_tabular_model(demo_handler):
    dicom = b64(dicom_bytes())
    [result] = demo_handler({"inputs": {"file": dicom, "model_id": "demo"}})
    assert result["task"] == "predict"
