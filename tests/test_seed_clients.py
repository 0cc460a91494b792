"""The three seed services' clients, replayed unchanged against the local server (issue 8).

Payloads are the seed documents' examples: the ECG-FM API's Python client, the PULSE handler's curl lines,
and the sklearn trainer service's curl lines. All run behind a bearer token, as the deployed services did.
"""

from __future__ import annotations

import numpy as np
import pytest
import requests
from pydicom import examples

from conftest import make_handler
from ecg_core.errors import ModelError
from ecg_core.server import create_app
from endpoint_harness import running_server

TOKEN = "seed-client-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    handler = make_handler(tmp_path_factory.mktemp("seed"), ENDPOINT_TOKEN=TOKEN)
    with running_server(create_app(handler)) as url:
        yield url, handler


def real_ecg_payload() -> dict:
    """The ECG-FM API client's body: a real 12-lead ECG (pydicom example, 1000 Hz µV) at 500 Hz, in mV."""
    microvolts = examples.waveform.waveform_array(0).T
    signal = (microvolts[:, ::2] / 1000.0).round(4)
    return {"signal": signal.tolist(), "fs": 500, "lead_names": LEADS, "recording_duration": 10.0}


def test_ecgfm_api_client(server):
    url, _ = server
    assert requests.get(f"{url}/health", timeout=30).status_code == 200
    body = real_ecg_payload()
    result = requests.post(f"{url}/analyze", json=body, headers=AUTH, timeout=120).json()
    assert isinstance(result, dict)  # ONE object, not a list
    analysis = result["clinical_analysis"]
    for key in ("rhythm", "heart_rate", "qrs_duration", "qt_interval", "pr_interval", "axis_deviation",
                "abnormalities", "confidence"):
        assert key in analysis
    parameters = analysis["physiological_parameters"]
    assert {"heart_rate", "qrs_duration", "qt_interval", "pr_interval", "qrs_axis"} <= set(parameters)
    assert abs(parameters["heart_rate"] - 60000 / 982) < 2  # the cart measured RR 982 ms
    assert isinstance(result["clinical_analysis"]["rhythm"], str)
    assert result["signal_quality"] in {"Excellent", "Good", "Acceptable", "Poor", "Unusable"}
    assert result["signal_quality_details"]["grade"] == result["signal_quality"]
    assert len(result["features"]) == result["feature_dim"] > 0
    assert result["processing_time"] > 0

    features = requests.post(f"{url}/extract_features", json=body, headers=AUTH, timeout=120).json()
    assert len(features["features"]) == len(result["features"])
    quality = requests.post(f"{url}/assess_quality", json=body, headers=AUTH, timeout=120).json()
    assert quality["signal_quality"] == result["signal_quality"]

    assert requests.post(f"{url}/analyze", json=body, timeout=30).status_code == 401
    bad = requests.post(f"{url}/analyze", json={**body, "fs": -1}, headers=AUTH, timeout=30)
    assert bad.status_code == 400 and "fs" in bad.json()["error"]
    unknown = requests.post(f"{url}/analyze", json={**body, "sampling": 500}, headers=AUTH, timeout=30)
    assert unknown.status_code == 400 and "sampling: unknown field" in unknown.json()["error"]


def test_pulse_handler_clients(server):
    url, handler = server
    image_request = {"inputs": {"query": "What are the main features in this ECG image?",
                                "image": _tiny_png_base64()},
                     "parameters": {"max_new_tokens": 16, "temperature": 0.2, "top_p": 0.9}}
    (result,) = requests.post(url, json=image_request, headers=AUTH, timeout=120).json()
    assert result["model"] == "PULSE-7B" and isinstance(result["generated_text"], str) and result["success"]
    assert {"comment_text", "commentary_status", "commentary_model", "commentary_tokens"} <= set(result)
    (text_result,) = requests.post(url, json={"inputs": "What is a normal PR interval?"}, headers=AUTH,
                                   timeout=120).json()
    assert isinstance(text_result["generated_text"], str)

    service = handler.engine.slots["pulse"].get()
    original = service.generate

    def out_of_memory(*args, **kwargs):
        raise ModelError("CUDA out of memory while generating")

    service.generate = out_of_memory
    try:
        response = requests.post(url, json={"inputs": "Why?"}, headers=AUTH, timeout=60)
    finally:
        service.generate = original
    assert response.status_code == 200
    (failed,) = response.json()
    assert failed["generated_text"] == "" and failed["success"] is False
    assert "out of memory" in failed["error"]


def test_sklearn_trainer_clients(server):
    url, _ = server
    api = f"{url}/api/v1/models"
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "PROBLEM", "NORM")
    fit = {"X": X.round(4).tolist(), "y": y.tolist(),
           "config": {"id": "123", "ml_model_type": "logic", "hyperparameters": {"C": 1.0}}}
    assert requests.post(f"{api}/fit", json=fit, timeout=60).status_code == 401
    response = requests.post(f"{api}/fit", json=fit, headers=AUTH, timeout=120)
    assert response.json() == [{"message": "Model '123' trained and saved"}]

    not_loaded = requests.post(f"{api}/predict", json={"id": "123", "X": [[0.1, 0.2, 0.3]]}, headers=AUTH, timeout=30)
    assert not_loaded.status_code == 400 and "not loaded" in not_loaded.json()["error"]
    assert requests.post(f"{api}/load", json={"id": "123"}, headers=AUTH, timeout=30).json() == \
        [{"message": "Model '123' loaded"}]
    predictions = requests.post(f"{api}/predict", json={"id": "123", "X": [[2.0, 1.0, 0.0], [-2.0, -1.0, 0.0]]},
                                headers=AUTH, timeout=30).json()["predictions"]
    assert [p["label"] for p in predictions] == ["PROBLEM", "NORM"]
    assert all(0.5 < p["probability"] <= 1 for p in predictions)
    wrong_count = requests.post(f"{api}/predict", json={"id": "123", "X": [[1.0, 2.0]]}, headers=AUTH, timeout=30)
    assert wrong_count.status_code == 400 and "3 features" in wrong_count.json()["error"]

    csv = "hr,qrs,qt,label\n" + "\n".join(f"{a:.3f},{b:.3f},{c:.3f},{label}" for (a, b, c), label in zip(X, y))
    response = requests.post(f"{api}/fit_csv", params={"model_id": "124", "ml_model_type": "svc"},
                             files={"file": ("data.csv", csv, "text/csv")}, headers=AUTH, timeout=120)
    assert response.json() == [{"message": "Model '124' trained and saved"}]
    models = requests.get(f"{api}/models", headers=AUTH, timeout=30).json()
    listed = {model["id"]: model["type"] for model in models[0]["models"]}
    assert listed["123"] == "logic" and listed["124"] == "svc"

    assert requests.post(f"{api}/unload", json={"id": "123"}, headers=AUTH, timeout=30).status_code == 200
    assert requests.delete(f"{api}/remove/124", headers=AUTH, timeout=30).json() == \
        [{"message": "Model '124' removed"}]
    unknown = requests.post(f"{api}/load", json={"id": "999"}, headers=AUTH, timeout=30)
    assert unknown.status_code == 400 and "999" in unknown.json()["error"]
    assert requests.get(f"{url}/api/openapi", headers=AUTH, timeout=30).status_code == 200
    assert requests.get(f"{url}/docs", headers=AUTH, timeout=30).status_code == 200


def _tiny_png_base64() -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 230, 230)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()
