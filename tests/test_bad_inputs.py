"""Malformed payloads: each gets a clear error naming the field, through the handler and over HTTP,
and the server keeps serving afterwards."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
import requests

from ecg_core.errors import InputError
from ecg_core.server import create_app
from endpoint_harness import running_server

FS = 500
T = np.arange(5 * FS) / FS
LEAD = (np.sin(2 * np.pi * 1.2 * T) ** 15).round(4).tolist()  # spiky periodic wave, 5 s
GOOD_SIGNAL = [LEAD] * 12


def signal_item(**overrides):
    return {"signal": GOOD_SIGNAL, "fs": FS, **overrides}


def nested(depth: int) -> dict:
    node: dict = {}
    for _ in range(depth):
        node = {"a": node}
    return node


# (name, payload, phrase expected in the error message)
BAD_PAYLOADS = [
    ("body is a list", [1, 2], "body: expected a JSON object"),
    ("body is a string", "hello", "body: expected a JSON object"),
    ("inputs is a number", {"inputs": 42}, "inputs: expected an object or a string"),
    ("inputs is null", {"inputs": None}, "inputs: expected an object or a string"),
    ("empty batch", {"inputs": []}, "empty batch"),
    ("empty inputs object", {"inputs": {}}, "cannot tell what to do"),
    ("unknown field", {"inputs": {"singal": GOOD_SIGNAL}}, "inputs.singal: unknown field"),
    ("signal is text", {"inputs": {"signal": "0.1,0.2"}}, "inputs.signal: expected a non-empty 2-D array"),
    ("signal is empty", {"inputs": {"signal": []}}, "inputs.signal: expected a non-empty"),
    ("ragged leads", {"inputs": {"signal": [[0.0] * 2500, [0.0] * 2490], "fs": FS}}, "rows of 2500 and 2490 samples"),
    ("strings in signal", {"inputs": signal_item(signal=[["a"] * 2500] * 12)}, "inputs.signal: expected numbers only"),
    ("booleans in signal", {"inputs": signal_item(signal=[[True] * 2500] * 12)}, "inputs.signal: expected numbers only"),
    ("string among numbers", {"inputs": signal_item(signal=[LEAD[:-1] + ["x"]] + [LEAD] * 11)}, "inputs.signal"),
    ("3-D signal", {"inputs": signal_item(signal=[[[0.1, 0.2]] * 2500] * 12)}, "inputs.signal"),
    ("empty rows", {"inputs": signal_item(signal=[[]] * 12)}, "inputs.signal: rows are empty"),
    ("too short", {"inputs": signal_item(signal=[LEAD[:500]] * 12)}, "recording too short"),
    ("mostly missing lead", {"inputs": signal_item(signal=[[None] * 2500] + [LEAD] * 11)}, "100.0% missing"),
    ("infinite sample", {"inputs": signal_item(signal=[LEAD[:-1] + [math.inf]] + [LEAD] * 11)}, "infinite"),
    ("fs zero", {"inputs": signal_item(fs=0)}, "inputs.fs: 0 Hz is outside"),
    ("fs as text", {"inputs": signal_item(fs="500")}, "inputs.fs: expected a number"),
    ("fs too high", {"inputs": signal_item(fs=100000)}, "inputs.fs"),
    ("lead_names count", {"inputs": signal_item(lead_names=["I", "II"])}, "does not match 2 lead_names"),
    ("unknown lead", {"inputs": signal_item(signal=[LEAD] * 2, lead_names=["I", "X7"])}, "inputs.lead_names[1]: unknown lead"),
    ("duplicate lead", {"inputs": signal_item(signal=[LEAD] * 2, lead_names=["II", "MLII"])}, "listed twice"),
    ("13 leads", {"inputs": signal_item(signal=[LEAD] * 13)}, "cannot tell leads from samples"),
    ("bad units", {"inputs": signal_item(units="furlongs")}, "inputs.units: unknown unit"),
    ("duration mismatch", {"inputs": signal_item(recording_duration=10.0)}, "inputs.recording_duration"),
    ("unknown task", {"inputs": signal_item(task="dance")}, "inputs.task: unknown task"),
    ("analyze without signal", {"inputs": {"task": "analyze", "query": "hi"}}, "inputs.signal: task 'analyze' needs a signal"),
    ("image and rows", {"inputs": {"image": "aGVsbG8=", "X": [[1.0]], "model_id": "demo"}}, "cannot be combined"),
    ("signal and rows", {"inputs": signal_item(X=[[1.0]], model_id="demo")}, "not both"),
    ("two images", {"inputs": {"image": "aGVsbG8=", "image_url": "https://example.org/a.png"}}, "give one image"),
    ("rows without model", {"inputs": {"X": [[1.0, 2.0]]}}, "inputs.model_id: required"),
    ("rows not a list", {"inputs": {"model_id": "demo", "X": "1,2,3"}}, "inputs.X: expected a non-empty list"),
    ("model id not text", {"inputs": {"model_id": 7, "X": [[1.0]]}}, "inputs.model_id"),
    ("query not text", {"inputs": {"query": 42}}, "inputs.query: expected text"),
    ("query blank", {"inputs": {"query": "   "}}, "inputs.query: is empty"),
    ("query too long", {"inputs": {"query": "why? " * 2000}}, "inputs.query: 10000 characters exceeds"),
    ("image wrong type", {"inputs": {"image": 123, "query": "what?"}}, "inputs.image: expected an https URL"),
    ("parameters not object", {"inputs": "hello", "parameters": [1]}, "parameters: expected an object"),
    ("unknown parameter", {"inputs": signal_item(), "parameters": {"return_featurez": True}}, "parameters.return_featurez: unknown parameter"),
    ("flag not boolean", {"inputs": signal_item(), "parameters": {"return_features": "yes"}}, "parameters.return_features"),
    ("thresholds text", {"inputs": signal_item(), "parameters": {"thresholds": "high"}}, "parameters.thresholds"),
    ("batch item number", {"inputs": [signal_item(), 7]}, "inputs[1]: expected an object or a string"),
    ("batch too large", {"inputs": ["hi"] * 65}, "batch of 65 items exceeds the limit of 64"),
    ("deeply nested", {"inputs": {"query": "hi", "history": nested(60)}}, "nested deeper than 32"),
    ("commentary timeout", {"inputs": signal_item(), "parameters": {"deepseek_timeout": 1}}, "parameters.deepseek_timeout"),
    ("commentary flag", {"inputs": signal_item(), "parameters": {"enable_turkish_commentary": "evet"}}, "parameters.enable_turkish_commentary"),
    ("temperature negative", {"inputs": "hello", "parameters": {"temperature": -1}}, "parameters.temperature"),
    ("max_new_tokens huge", {"inputs": "hello", "parameters": {"max_new_tokens": 10**9}}, "parameters.max_new_tokens"),
    ("history wrong type", {"inputs": {"query": "and now?", "history": "earlier"}}, "inputs.history"),
    ("bad base64 image", {"inputs": {"image": "!!not base64!!", "query": "what?"}}, "inputs.image"),
    ("base64 of text", {"inputs": {"image": base64.b64encode(b"hello world").decode(), "query": "?"}}, "inputs.image"),
    ("unknown tabular model", {"inputs": {"model_id": "no-such-model", "X": [[1.0, 2.0]]}}, "inputs.model_id"),
    ("batch tabular feature count", {"inputs": [{"model_id": "demo", "X": [[72.0, 90.0, 380.0, 410.0, 30.0]]},
                                                {"model_id": "demo", "features": [[72.0, 90.0]]}]},
     "inputs[1].features[0]: expected 5 features, got 2"),
    ("model id path trick", {"inputs": {"model_id": "../../etc/passwd", "X": [[1.0, 2.0]]}}, "inputs.model_id"),
]


@pytest.mark.parametrize("name,payload,phrase", BAD_PAYLOADS, ids=[case[0] for case in BAD_PAYLOADS])
def test_handler_rejects_bad_payload(demo_handler, name, payload, phrase):
    with pytest.raises(InputError) as caught:
        demo_handler(payload)
    assert phrase in str(caught.value)


def test_enough_bad_payloads():
    assert len(BAD_PAYLOADS) >= 40


# Bodies only HTTP can send: not JSON at all, not UTF-8, JSON's non-standard tokens, truncated.
RAW_BODIES = [
    (b"", "application/json", "body: empty"),
    (b'{"inputs": ', "application/json", "invalid JSON"),
    (b'{"inputs": {"query": "\xff\xfe bad utf-8"}}', "application/json", "invalid JSON"),
    (b'{"inputs": {"signal": [[NaN, Infinity]]}}', "application/json", "invalid JSON"),
    (b"inputs=hello", "application/x-www-form-urlencoded", "Content-Type"),
    (b"[" * 5000 + b"]" * 5000, "application/json", "invalid JSON"),
]


def test_http_bad_inputs_get_400_and_server_keeps_serving(demo_handler):
    with running_server(create_app(demo_handler)) as url:
        for name, payload, phrase in BAD_PAYLOADS:
            try:
                body = json.dumps(payload, allow_nan=False)
            except ValueError:  # inf cannot travel as standard JSON: the server's parser refuses it
                body, phrase = json.dumps(payload), "invalid JSON"
            if not isinstance(payload, dict) or "inputs" not in payload:  # the toolkit's rule, before the handler
                phrase = "needs to provide a inputs key"
            response = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=60)
            assert response.status_code == 400, (name, response.status_code, response.text[:300])
            assert phrase in response.json()["error"], name
        for body, content_type, phrase in RAW_BODIES:
            response = requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=60)
            assert response.status_code == 400, (body[:40], response.text[:300])
            assert phrase in response.json()["error"]
        assert requests.get(f"{url}/health", timeout=10).json()["status"] == "ok"
        ok = requests.post(url, json={"inputs": signal_item(task="quality")}, timeout=60)
        assert ok.status_code == 200 and ok.json()[0]["task"] == "quality"


def test_oversize_images_are_refused_before_any_model_runs(tmp_path):
    from conftest import make_handler

    handler = make_handler(tmp_path, ECG_MAX_IMAGE_BYTES="1000")
    big = base64.b64encode(bytes(range(256)) * 8).decode()  # 2048 bytes once decoded
    for payload, phrase in (({"inputs": {"image": big, "query": "?"}}, "inputs.image: oversize: base64 image is larger"),
                            ({"inputs": {"image": bytes(2048)}}, "inputs.image: oversize: image is 2048 bytes")):
        with pytest.raises(InputError, match=phrase):
            handler(payload)
    assert handler.health()["models"]["pulse"]["state"] == "not_loaded"
