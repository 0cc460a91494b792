"""The page's routes over real HTTP: which paths are open, the analysis with the recording to draw, the PDF
report from the API, bundled examples and the beat view's errors (each a 400 naming the field)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import requests
from pypdf import PdfReader

from conftest import fixture_path, make_handler
from ecg_core.server import create_app
from ecg_core.ui import examples
from ecg_files import CART_FILES, cart_file_bytes
from endpoint_harness import running_server
from synthetic_ecg import add_st_elevation, synthetic_12lead

TOKEN = "routes-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(create_app(make_handler(tmp_path_factory.mktemp("routes"), ENDPOINT_TOKEN=TOKEN))) as url:
        yield url


def _post(server: str, path: str, body: dict) -> requests.Response:
    return requests.post(f"{server}{path}", json=body, headers=AUTH, timeout=120)


def test_the_page_loads_without_the_token_and_everything_else_needs_it(server):
    page = requests.get(f"{server}/ui", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"] and "app.js" in page.text
    assert requests.get(f"{server}/ui/static/app.js", timeout=30).headers["content-type"].startswith("text/javascript")
    for path in ("/ui/api/examples", "/ui/static/secret.txt", "/ui/static/../../handler.py"):
        assert requests.get(f"{server}{path}", timeout=30).status_code == 401, path
    assert requests.post(f"{server}/report", json={}, timeout=30).status_code == 401
    assert requests.get(f"{server}/ui/static/secret.txt", headers=AUTH, timeout=30).status_code in (400, 404)
    root = requests.get(f"{server}/", timeout=30)  # the toolkit's health answer, pointing to the page
    assert root.text == "Ok" and root.headers["Link"].startswith("</ui>")


def test_analysis_carries_the_recording_to_draw_and_the_flags(server):
    path = examples.example_inputs("pydicom_waveform")
    answer = _post(server, "/ui/api/analyze", {"inputs": path}).json()
    display = answer["display"]
    assert display["lead_names"] == ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    assert display["fs"] == 250.0 and len(display["signal"][0]) == 2500  # 10 s at 1000 Hz, resampled
    assert answer["result"]["recording"]["format"] == "dicom"
    assert answer["result"]["median_beat"]["fiducials_ms"]["qrs_onset"] is not None
    rows = {row["key"]: row for row in answer["measurement_table"]}
    measured = answer["result"]["clinical_analysis"]["physiological_parameters"]
    assert rows["qrs_duration"]["value"] == measured["qrs_duration"] and rows["qrs_duration"]["cart"] == 75
    # the DICOM's QTc states no formula: it stands beside ours by the formula its QT and RR reproduce it with
    formula = answer["result"]["measurement_vs_cart"]["qtc"]["formula"]
    beside = {"bazett": "qtc_bazett", "fridericia": "qtc_fridericia"}.get(formula, "qtc")
    assert rows[beside]["cart"] == 370 and rows["heart_rate"]["cart"] == pytest.approx(60000 / 982, abs=0.05)
    if beside == "qtc":
        assert formula.capitalize() in rows["qtc"]["label"] and rows["qtc_bazett"]["cart"] is None
    # the DICOM says the patient is a woman: her QTc limit (tests/test_qtc_limits.py has the rule's cases)
    assert rows["qtc_bazett"]["high"] == 460 and rows["qtc_bazett"]["range"].endswith("(women)")
    for row in (row for key, row in rows.items() if not key.startswith("qtc")):
        value = row["value"]
        expected = (None if value is None else "low" if row["low"] is not None and value < row["low"]
                    else "high" if row["high"] is not None and value > row["high"] else None)
        assert row["flag"] == expected


@pytest.mark.parametrize("path", ["/ui/api/analyze", "/report"])
def test_the_page_decodes_a_file_once(server, monkeypatch, path):
    """The recording the page draws and the one the handler measures come from one decoding of the file."""
    from ecg_core.files import request as file_request

    calls = []
    original = file_request.read_ecg_file
    monkeypatch.setattr(file_request, "read_ecg_file", lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs))
    response = _post(server, path, {"inputs": examples.example_inputs("pydicom_waveform")})
    assert response.status_code == 200 and len(calls) == 1


@pytest.mark.parametrize("body, message", [
    ({"signal": [[0.0] * 5000], "fs": 500}, "inputs: expected one recording"),
    ({"inputs": [{"signal": [[0.0] * 5000], "fs": 500}]}, "inputs: expected one recording"),
    ({"inputs": {"query": "hello"}}, "inputs: the page analyses one recording"),
    ({"inputs": {"signal": [[0.0] * 5000], "fs": 500}, "parameters": [1]}, "parameters: expected an object"),
    ({"inputs": {"file": "AAAA"}}, "inputs.file:"),
])
def test_analysis_and_report_refuse_anything_but_one_recording(server, body, message):
    for path in ("/ui/api/analyze", "/report"):
        response = _post(server, path, body)
        assert response.status_code == 400 and response.json()["error"].startswith(message), response.text


def test_report_from_the_api_has_the_numbers(server):
    inputs = examples.example_inputs("pydicom_waveform")
    response = _post(server, "/report", {"inputs": inputs})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    result = _post(server, "/", {"inputs": {**inputs, "task": "analyze"}}).json()[0]
    measured = result["clinical_analysis"]["physiological_parameters"]
    assert f"Heart rate: {measured['heart_rate']:g} bpm" in text
    assert f"PR interval: {measured['pr_interval']:g} ms | cart 161" in text
    assert "ECG report — dicom, 12 leads, 1000 Hz, 10.0 s" in text
    assert "RITMO SINUSALE" in text  # the cart's statement (Italian cart)
    top = max(result["labels"], key=lambda label: label["probability"])
    assert f"{top['name']}: {top['probability']:.2f}" in text
    png = requests.post(f"{server}/report?format=png", json={"inputs": inputs}, headers=AUTH, timeout=120)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    wrong = requests.post(f"{server}/report?format=svg", json={"inputs": inputs}, headers=AUTH, timeout=120)
    assert wrong.status_code == 400 and wrong.json()["error"].startswith("format: expected one of pdf, png")


def test_report_puts_urgent_findings_first(server):
    signal, names = synthetic_12lead(72, 160, 90, 390, seed=5)
    inputs = {"signal": add_st_elevation(signal, names, ("II", "III", "aVF"), 0.3).round(4).tolist(), "fs": 500,
              "lead_names": list(names)}
    urgent = _post(server, "/", {"inputs": {**inputs, "task": "analyze"}}).json()[0]["clinical_analysis"][
        "urgent_findings"]
    text = PdfReader(io.BytesIO(_post(server, "/report", {"inputs": inputs}).content)).pages[0].extract_text()
    findings = text[text.index("Findings"):]
    assert urgent and findings.split("\n")[1].startswith("URGENT: ST elevation in contiguous inferior leads")
    assert "(leads II, III, aVF)" in " ".join(text.split())


def test_report_names_the_lead_the_measurements_left_out(server):
    signal, names = synthetic_12lead(72, 160, 90, 390, seed=4)
    loose = signal.copy()
    loose[names.index("V3")] += np.random.default_rng(4).normal(0, 0.2, signal.shape[1])  # a loose electrode
    inputs = {"signal": loose.round(4).tolist(), "fs": 500, "lead_names": list(names)}
    measured = _post(server, "/", {"inputs": {**inputs, "task": "analyze"}}).json()[0]["clinical_analysis"][
        "physiological_parameters"]
    assert list(measured["leads_left_out"]) == ["V3"] and "V3" not in measured["per_lead"]
    text = PdfReader(io.BytesIO(_post(server, "/report", {"inputs": inputs}).content)).pages[0].extract_text()
    assert f"Left out of the measurements: V3 ({measured['leads_left_out']['V3']})" in " ".join(text.split())
    clean = {**inputs, "signal": signal.round(4).tolist()}
    assert "Left out" not in PdfReader(io.BytesIO(_post(server, "/report", {"inputs": clean}).content)).pages[0] \
        .extract_text()


def test_report_says_what_a_narrow_bandwidth_does(server):
    """The Welch Allyn file states a 35 Hz low-pass filter (tests/test_bandwidth.py)."""
    scp = base64.b64encode(cart_file_bytes(dict((name, parts) for name, parts, _, _ in CART_FILES)["scp_2008"]))
    inputs = {"file": scp.decode()}
    limits = _post(server, "/", {"inputs": {**inputs, "task": "measure"}}).json()[0]["measurements"]["bandwidth"][
        "limits"]
    text = " ".join(PdfReader(io.BytesIO(_post(server, "/report", {"inputs": inputs}).content)).pages[0]
                    .extract_text().split())
    assert limits and f"Bandwidth: {'; '.join(limits)}" in text


def test_the_page_and_the_report_take_the_qtc_limit_from_the_patients_sex(server):
    signal, names = synthetic_12lead(60, 160, 90, 450, seed=3)  # QTc (Bazett) about 455 ms
    inputs = {"signal": signal.round(4).tolist(), "fs": 500, "lead_names": list(names)}
    flags = {}
    for sex in ("M", "F", None):
        body = {"inputs": inputs if sex is None else {**inputs, "sex": sex}}
        row = next(row for row in _post(server, "/ui/api/analyze", body).json()["measurement_table"]
                   if row["key"] == "qtc_bazett")
        assert 450 <= row["value"] < 460, "the synthetic QTc moved: choose a QT that lands in 450-459 again"
        flags[sex] = row["flag"]
    assert flags == {"M": "high", "F": None, None: "borderline"}
    text = PdfReader(io.BytesIO(_post(server, "/report", {"inputs": {**inputs, "sex": "M"}}).content)).pages[0]
    qtc_line = next(line for line in text.extract_text().split("\n") if line.startswith("QTc (Bazett)"))
    assert "< 450 (men)" in qtc_line and qtc_line.endswith("[HIGH]")


def test_examples(server):
    listed = requests.get(f"{server}/ui/api/examples", headers=AUTH, timeout=30).json()["examples"]
    assert {example["name"] for example in listed} == {"pydicom_waveform", "mitbih_208", "neurokit_12lead"}
    unknown = requests.get(f"{server}/ui/api/examples/nope", headers=AUTH, timeout=30)
    assert unknown.status_code == 400 and unknown.json()["error"].startswith("example: unknown")
    simulated = requests.get(f"{server}/ui/api/examples/neurokit_12lead", headers=AUTH, timeout=60).json()["inputs"]
    assert len(simulated["signal"]) == 12 and simulated["fs"] == 500.0


def test_beat_view_on_the_mitbih_208_example_and_its_errors(server):
    inputs = examples.example_inputs("mitbih_208")
    view = _post(server, "/ui/api/beats", {"inputs": inputs, "train_minutes": 2}).json()
    model_id = view["model_id"]
    assert model_id.startswith("page-beats-") and view["fitted"]["rows"] >= 100 and view["evaluation"] is None
    assert view["lead"] == "II" and abs(len(view["signal"]) / view["fs"] - 300) < 1
    assert sum(beat["anomaly"] for beat in view["beats"]) > 0
    # the fitted model is in the registry, and can be picked next time
    models = _post(server, "/", {"inputs": {"task": "list_models"}}).json()[0]["models"]
    assert any(model["id"] == model_id and model["feature_set"] == "beats" for model in models)
    again = _post(server, "/ui/api/beats", {"inputs": inputs, "model_id": model_id}).json()
    assert [b["anomaly"] for b in again["beats"]] == [b["anomaly"] for b in view["beats"]]
    # another fit (other minutes) gets its own id and leaves this one as it was; the same fit, the same id
    other = _post(server, "/ui/api/beats", {"inputs": inputs, "train_minutes": 3}).json()
    assert other["model_id"].startswith("page-beats-") and other["model_id"] != model_id
    assert _post(server, "/ui/api/beats", {"inputs": inputs, "train_minutes": 2}).json()["model_id"] == model_id
    kept = _post(server, "/ui/api/beats", {"inputs": inputs, "model_id": model_id}).json()
    assert [b["anomaly"] for b in kept["beats"]] == [b["anomaly"] for b in view["beats"]]

    hea = base64.b64encode(fixture_path("mitbih", "100.hea").read_bytes()).decode()
    cases = [
        ({"inputs": inputs, "train_minutes": 0.2}, "train_minutes: the first 0.2 min hold"),
        ({"inputs": inputs, "contamination": 2}, "contamination: expected a number from 0.001 to 0.5"),
        ({"inputs": inputs, "model_id": "demo"}, "model_id: model 'demo' scores ecg_measurements features, not beats"),
        ({"wfdb_files": {"../100.hea": hea}}, "wfdb_files: unexpected file name"),
        ({"wfdb_files": {"100.hea": "%%%"}}, "wfdb_files.100.hea: not valid base64"),
        ({"wfdb_files": {"100.dat": hea}}, "wfdb_files: expected exactly one .hea header"),
        ({"wfdb_files": {"100.hea": hea}}, "wfdb_files: wfdb"),  # the .dat it names is missing
        ({"wfdb_files": []}, "wfdb_files: expected an object"),
    ]
    for body, message in cases:
        response = _post(server, "/ui/api/beats", body)
        assert response.status_code == 400 and response.json()["error"].startswith(message), response.text


def test_without_ecgfm_weights_the_page_gets_the_measurements_and_why(tmp_path):
    handler = make_handler(tmp_path, ECG_DEMO="0", ECGFM_CLASSIFIER=str(tmp_path / "absent.pt"))
    with running_server(create_app(handler)) as url:
        inputs = examples.example_inputs("neurokit_12lead")
        answer = requests.post(f"{url}/ui/api/analyze", json={"inputs": inputs}, timeout=120).json()
    assert answer["result"]["task"] == "measure" and answer["result"]["ecgfm_status"].startswith("not used:")
    assert answer["measurement_table"][0]["value"] == answer["result"]["measurements"]["heart_rate"]
