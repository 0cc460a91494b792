"""The local endpoint server over real HTTP on loopback: auth, size limits, content types, error codes."""

from __future__ import annotations

import io

import numpy as np
import pytest
import requests
from PIL import Image

from conftest import make_handler
from ecg_core.server import create_app
from endpoint_harness import running_server

FS = 500
LEAD = (np.sin(2 * np.pi * 1.2 * np.arange(5 * FS) / FS) ** 15).round(4).tolist()
QUALITY_REQUEST = {"inputs": {"signal": [LEAD] * 12, "fs": FS, "task": "quality"}}


def test_bearer_token_is_required_and_checked(tmp_path):
    handler = make_handler(tmp_path, ENDPOINT_TOKEN="s3cret-token")
    with running_server(create_app(handler)) as url:
        missing = requests.post(url, json=QUALITY_REQUEST, timeout=30)
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        assert "missing bearer token" in missing.json()["error"]
        wrong = requests.post(url, json=QUALITY_REQUEST, headers={"Authorization": "Bearer s3cret-tokeN"}, timeout=30)
        assert wrong.status_code == 403
        assert "s3cret" not in wrong.text
        basic = requests.post(url, json=QUALITY_REQUEST, headers={"Authorization": "Basic s3cret-token"}, timeout=30)
        assert basic.status_code == 401
        auth = {"Authorization": "Bearer s3cret-token"}
        assert requests.post(url, json=QUALITY_REQUEST, headers=auth, timeout=30).status_code == 200
        assert requests.post(f"{url}/predict", json=QUALITY_REQUEST, headers=auth, timeout=30).status_code == 200
        assert requests.get(f"{url}/docs", timeout=30).status_code == 200  # open on purpose (ecg_core/docs.py)
        health = requests.get(f"{url}/health", timeout=30)
        assert health.status_code == 200 and "s3cret" not in health.text


def test_oversize_bodies_get_413_before_being_read(tmp_path):
    handler = make_handler(tmp_path, ECG_MAX_BODY_BYTES="50000")
    with running_server(create_app(handler)) as url:
        big = b'{"inputs": {"query": "' + b"a" * 60000 + b'"}}'
        declared = requests.post(url, data=big, headers={"Content-Type": "application/json"}, timeout=30)
        assert declared.status_code == 413
        assert "exceeds the limit of 50000 bytes" in declared.json()["error"]

        def chunks():  # no Content-Length: the server must count while reading
            for _ in range(20):
                yield b"x" * 10000

        streamed = requests.post(url, data=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
        assert streamed.status_code == 413
        one_lead = {"inputs": {"signal": [LEAD], "fs": FS, "task": "quality"}}  # about 17 kB: under the limit
        assert requests.post(url, json=one_lead, timeout=30).status_code == 200


def test_raw_image_body_reaches_pulse(demo_handler):
    image = Image.new("RGB", (600, 300), "white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    with running_server(create_app(demo_handler)) as url:
        response = requests.post(url, data=buffer.getvalue(), headers={"Content-Type": "image/png"}, timeout=120)
        assert response.status_code == 200, response.text[:300]
        result = response.json()[0]
        assert result["model"] == "PULSE-7B" and result["weights"] == "demo"
        assert result["image_tiles"] == 3  # 2:1 image → 336×672 grid → 2 tiles + the overview
        assert isinstance(result["generated_text"], str)


def test_missing_model_is_503_while_other_routes_serve(tmp_path):
    handler = make_handler(tmp_path, ECG_DEMO="0", PULSE_MODEL="none", ECGFM_CLASSIFIER="none")
    with running_server(create_app(handler)) as url:
        response = requests.post(url, json={"inputs": "Is this ECG normal?"}, timeout=30)
        assert response.status_code == 503
        assert "PULSE-7B" in response.json()["error"]
        analyze = requests.post(url, json={"inputs": QUALITY_REQUEST["inputs"] | {"task": "analyze"}}, timeout=30)
        assert analyze.status_code == 503 and "ECG-FM" in analyze.json()["error"]
        assert requests.post(url, json=QUALITY_REQUEST, timeout=30).status_code == 200
        states = requests.get(f"{url}/health", timeout=30).json()["models"]
        assert states["pulse"]["state"] == "not_configured"
        assert states["ecgfm"]["state"] == "not_configured"


class _BrokenTabular:
    def predict(self, *args, **kwargs):
        raise RuntimeError("estimator exploded")


def test_failure_inside_a_model_is_500_without_traceback(tmp_path):
    handler = make_handler(tmp_path)
    slot = handler.engine.slots["tabular"]
    slot._loader = _BrokenTabular  # the loader returns a model whose predict fails
    with running_server(create_app(handler)) as url:
        response = requests.post(url, json={"inputs": {"model_id": "demo", "X": [[1.0, 2.0]]}}, timeout=30)
        assert response.status_code == 500
        assert response.headers["Connection"] == "close"  # the server drops it: the client knows to reconnect
        assert response.json() == {"error": "internal error: RuntimeError: estimator exploded"}
        assert "Traceback" not in response.text
        assert requests.post(url, json=QUALITY_REQUEST, timeout=30).status_code == 200


@pytest.mark.parametrize("path", ["/", "/predict"])
def test_both_inference_paths(demo_handler, path):
    with running_server(create_app(demo_handler)) as url:
        response = requests.post(url + path, json=QUALITY_REQUEST, timeout=30)
        assert response.status_code == 200
        (result,) = response.json()
        assert result["task"] == "quality" and result["weights"] == "demo"
        assert isinstance(result["processing_time"], float)
