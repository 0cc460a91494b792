"""Every example of test_requests.json, through the handler and over HTTP (with and without a bearer
token), in demo mode. URL images are served by a local image server on loopback."""

from __future__ import annotations

import io
import json

import pytest
import requests
from PIL import Image

from conftest import ROOT, make_handler
from ecg_core.errors import InputError
from ecg_core.server import create_app
from endpoint_harness import running_server

EXAMPLES = json.loads((ROOT / "test_requests.json").read_text())
IMAGE_PATH = "/ecg/12lead_1100x850.png"


def test_examples_cover_every_route_and_enough_bad_requests():
    tasks = {example["name"] for example in EXAMPLES}
    assert {"analyze_12lead", "features", "quality", "measure", "render", "pulse_image_url", "pulse_image_base64",
            "pulse_image_data_uri", "pulse_text_only", "tabular_predict_rows", "list_models", "commentary_on",
            "commentary_off"} <= tasks
    assert {"file_dicom", "file_philips_xml", "file_scp", "file_wfdb_zip", "file_edf", "file_csv"} <= tasks
    assert sum("expect_error" in example for example in EXAMPLES) >= 4


@pytest.fixture(scope="module")
def image_server():
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    buffer = io.BytesIO()
    Image.new("RGB", (1100, 850), (255, 240, 240)).save(buffer, format="PNG")
    server.expect_request(IMAGE_PATH).respond_with_data(buffer.getvalue(), content_type="image/png")
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    return make_handler(tmp_path_factory.mktemp("replay"), ECG_ALLOW_PRIVATE_IMAGE_URLS="1")


def local_request(example: dict, image_server) -> dict:
    """The example's request with its https image URL pointed at the local image server."""
    text = json.dumps(example["request"]).replace("https://example.com" + IMAGE_PATH, image_server.url_for(IMAGE_PATH))
    return json.loads(text)


def check_results(example: dict, results: list) -> None:
    inputs = example["request"]["inputs"]
    assert isinstance(results, list)
    assert len(results) == (len(inputs) if isinstance(inputs, list) else 1)
    for result in results:
        assert isinstance(result["model"], str) and isinstance(result["task"], str)
        assert isinstance(result["processing_time"], float) and result["processing_time"] >= 0
        assert result["weights"] == "demo"
        assert result["commentary_status"] in {"disabled", "api_key_missing"}
    first = results[0]
    name = example["name"]
    if name.startswith("analyze"):
        assert first["task"] == "analyze" and len(first["labels"]) == 17
        assert {"rhythm", "heart_rate", "abnormalities", "physiological_parameters"} <= set(first["clinical_analysis"])
        assert first["signal_quality"]["grade"] in {"Excellent", "Good", "Acceptable", "Poor", "Unusable"}
    if example["request"].get("parameters", {}).get("return_features") or name == "features":
        assert len(first["features"]) == first["feature_dim"] == 768  # ECG-FM's, demo weights too
    if example["request"].get("parameters", {}).get("return_median_beat"):
        beat = first["median_beat"]
        assert len(beat["signal"]) == len(beat["lead_names"]) == 12
        assert set(beat["fiducials_ms"]) == {"p_onset", "p_offset", "qrs_onset", "qrs_offset", "t_offset"}
        assert "age" not in first["recording"] and "sex" not in first["recording"]
    if name == "render":
        assert first["image"].startswith("data:image/png;base64,")
    if name.startswith("pulse") or name in {"signal_to_pulse", "commentary_off"}:
        assert first["model"] == "PULSE-7B" and isinstance(first["generated_text"], str) and first["success"]
    if name == "pulse_image_url":
        assert first["image_tiles"] == 5  # 1100×850 → 672×672 grid: 4 tiles + the overview
    if name == "signal_to_pulse":
        assert first["signal_analysis"]["task"] == "analyze"
    if name.startswith("tabular"):
        rows = inputs.get("X") or inputs.get("features") or [None]
        assert first["model_id"] == "demo" and len(first["predictions"]) == len(rows)
        assert all(p["label"] in {"NORM", "PROBLEM"} and 0 <= p["probability"] <= 1 for p in first["predictions"])
    if name == "list_models":
        assert "demo" in {model["id"] for model in first["models"]}
    if name == "commentary_on":
        assert first["commentary_status"] == "api_key_missing"
    if name == "commentary_off":
        assert first["commentary_status"] == "disabled"
    if name == "measure_stated_pacemaker":  # pydicom's ECG has no pacing spike
        note = first["measurements"]["pacing"]["note"]
        assert first["measurements"]["pacing"]["mode"] is None and "no pacing spike was found" in note
        assert note in first["clinical_analysis"]["notes"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[example["name"] for example in EXAMPLES])
def test_example_through_handler(handler, image_server, example):
    request = local_request(example, image_server)
    if "expect_error" in example:
        with pytest.raises(InputError, match=example["expect_error"].replace(".", r"\.")):
            handler(request)
        return
    check_results(example, handler(request))


@pytest.mark.parametrize("token", ["", "replay-token"])
def test_examples_over_http(tmp_path, image_server, token):
    handler = make_handler(tmp_path, ECG_ALLOW_PRIVATE_IMAGE_URLS="1", ENDPOINT_TOKEN=token)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with running_server(create_app(handler)) as url:
        for example in EXAMPLES:
            response = requests.post(url, json=local_request(example, image_server), headers=headers, timeout=300)
            if "expect_error" in example:
                assert response.status_code == 400, example["name"]
                assert example["expect_error"] in response.json()["error"]
            else:
                assert response.status_code == 200, (example["name"], response.text[:300])
                check_results(example, response.json())
        if token:
            assert requests.post(url, json=EXAMPLES[0]["request"], timeout=30).status_code == 401
            wrong = {"Authorization": "Bearer not-the-token"}
            assert requests.post(url, json=EXAMPLES[0]["request"], headers=wrong, timeout=30).status_code == 403
