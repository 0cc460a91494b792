"""HTTP behaviours the Inference Endpoints toolkit defines, asserted the same way on the real toolkit
(tests/test_toolkit.py) and on the local server (tests/test_server_toolkit.py): what passes locally passes
deployed. Each case is one request and what both servers must answer."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import requests
from PIL import Image

from conftest import ROOT

_EXAMPLES = {example["name"]: example["request"] for example in json.loads((ROOT / "test_requests.json").read_text())}
SIGNAL = _EXAMPLES["analyze_samples_by_leads_uv"]  # a signal request without parameters


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (255, 240, 240)).save(buffer, format="PNG")
    return buffer.getvalue()


def _features_returned(results: list) -> None:
    assert len(results[0]["features"]) == results[0]["feature_dim"] == 768


def _no_features(results: list) -> None:
    assert "features" not in results[0]


def _pulse_read_the_image(results: list) -> None:
    assert results[0]["model"] == "PULSE-7B" and results[0]["image_tiles"] == 3  # 2:1 → 2 tiles + overview


@dataclass(frozen=True)
class Case:
    name: str
    method: str = "POST"
    path: str = "/"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    phrase: str | None = None  # in the answer's "error" (both servers word it differently otherwise)
    check: Callable[[Any], None] | None = None  # on the JSON answer of a 200


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


JSON = {"Content-Type": "application/json"}
TOOLKIT_CASES = (
    Case("get_root_is_health", method="GET", path="/"),
    Case("get_health", method="GET", path="/health"),
    Case("predict_path", path="/predict", body=_json(SIGNAL), headers=JSON),
    Case("json_with_charset", body=_json(SIGNAL), headers={"Content-Type": "application/json; charset=UTF-8"}),
    Case("query_parameters_become_parameters", path="/?return_features=true", body=_json(SIGNAL), headers=JSON,
         check=_features_returned),
    Case("query_ignored_when_body_has_parameters", path="/?return_features=true",
         body=_json({**SIGNAL, "parameters": {}}), headers=JSON, check=_no_features),
    Case("raw_png_body", body=_png(600, 300), headers={"Content-Type": "image/png"}, check=_pulse_read_the_image),
    Case("body_without_inputs", body=_json(SIGNAL["inputs"]), headers=JSON, status=400,
         phrase="needs to provide a inputs key"),
    Case("json_list_body", body=_json([SIGNAL]), headers=JSON, status=400, phrase="needs to provide a inputs key"),
    Case("no_content_type", body=_json(SIGNAL), status=400, phrase="not supported"),
    # The toolkit refuses the content type; the local server takes ECG files as raw bodies (README, ECG files)
    # and refuses this one as no ECG: both a 400.
    Case("xml_content_type", body=b"<ecg/>", headers={"Content-Type": "application/xml"}, status=400),
    Case("form_content_type", body=b"inputs=1", headers={"Content-Type": "application/x-www-form-urlencoded"},
         status=400, phrase="not supported"),
    Case("text_plain_content_type", body=b"Is this ECG normal?", headers={"Content-Type": "text/plain"},
         status=400),
    Case("invalid_json", body=b"{inputs:", headers=JSON, status=400),
    Case("html_accept", body=_json(SIGNAL), headers={**JSON, "Accept": "text/html"}, status=400,
         phrase="not supported"),
)


def check_case(case: Case, base_url: str) -> None:
    response = requests.request(case.method, base_url + case.path, data=case.body or None,
                                headers={"Accept-Encoding": "identity", **case.headers}, timeout=300)
    assert response.status_code == case.status, (case.name, response.text[:300])
    if case.status != 200:
        assert isinstance(response.json()["error"], str)
        if case.phrase:
            assert case.phrase in response.json()["error"], (case.name, response.text[:300])
    elif case.check:
        case.check(response.json())
