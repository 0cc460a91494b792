"""The local server answers like the Inference Endpoints toolkit (the same cases tests/test_toolkit.py runs on
the real toolkit), and its local-only extras: open offline documentation, CORS."""

from __future__ import annotations

import re

import pytest
import requests

from conftest import make_handler
from ecg_core.server import create_app
from endpoint_harness import running_server
from toolkit_cases import JSON, SIGNAL, TOOLKIT_CASES, _json, check_case

TOKEN = "docs-token"


@pytest.fixture(scope="module")
def local_url(tmp_path_factory):
    with running_server(create_app(make_handler(tmp_path_factory.mktemp("local")))) as url:
        yield url


@pytest.mark.parametrize("case", TOOLKIT_CASES, ids=[case.name for case in TOOLKIT_CASES])
def test_toolkit_behaviour(local_url, case):
    check_case(case, local_url)


def test_refusals_say_what_to_send(local_url):
    plain = requests.post(local_url, data=b"Is it normal?", headers={"Content-Type": "text/plain"}, timeout=30)
    assert plain.json()["error"].startswith("Content-Type: text/plain is not supported; send the request as "
                                            "application/json, or a raw image as one of image/png")
    missing = requests.post(local_url, data=_json(SIGNAL["inputs"]), headers=JSON, timeout=30)
    assert missing.json()["error"] == 'body: needs to provide a inputs key: send {"inputs": ..., "parameters": {...}}'
    html = requests.post(local_url, data=_json(SIGNAL), headers={**JSON, "Accept": "text/html"}, timeout=30)
    assert "send Accept: application/json" in html.json()["error"]


def test_documentation_is_open_and_served_offline(tmp_path):
    with running_server(create_app(make_handler(tmp_path, ENDPOINT_TOKEN=TOKEN))) as url:
        for page in ("/docs", "/api/openapi"):
            html = requests.get(url + page, timeout=30)
            assert html.status_code == 200 and "swagger-ui" in html.text
            assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html.text)
            assert assets and all(asset.startswith("/") for asset in assets), assets  # nothing from a CDN
            for asset in assets:
                served = requests.get(url + asset, timeout=30)
                assert served.status_code == 200 and len(served.content) > 100, asset
        schema = requests.get(url + "/api/openapi.json", timeout=30).json()
        assert schema["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
        assert "/analyze" in schema["paths"]
        assert requests.get(url + "/", timeout=30).status_code == 200  # GET / is the toolkit's health check
        # Everything that touches the models or the registry still needs the token.
        assert requests.post(url, json=SIGNAL, timeout=30).status_code == 401
        assert requests.post(url + "/", data=_json(SIGNAL), headers=JSON, timeout=30).status_code == 401
        assert requests.get(url + "/api/v1/models/models", timeout=30).status_code == 401


def test_cors_is_off_by_default_and_allows_only_the_configured_origins(tmp_path, local_url):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    assert "access-control-allow-origin" not in requests.options(local_url, headers=preflight, timeout=30).headers
    handler = make_handler(tmp_path, ENDPOINT_TOKEN=TOKEN, ECG_CORS_ORIGINS="https://app.example, http://localhost:3000")
    with running_server(create_app(handler)) as url:
        allowed = requests.options(url, headers=preflight, timeout=30)
        assert allowed.status_code == 200  # the preflight carries no token and must not need one
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        answer = requests.post(url, json=SIGNAL, headers={"Origin": "https://app.example",
                                                          "Authorization": f"Bearer {TOKEN}"}, timeout=60)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "https://app.example"
        refused = requests.post(url, json=SIGNAL, headers={"Origin": "https://app.example"}, timeout=30)
        assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "https://app.example"
        other = requests.options(url, headers={**preflight, "Origin": "https://evil.example"}, timeout=30)
        assert "access-control-allow-origin" not in other.headers


def test_cors_origins_setting_is_validated(tmp_path):
    from ecg_core.errors import InputError

    with pytest.raises(InputError, match="ECG_CORS_ORIGINS"):
        make_handler(tmp_path, ECG_CORS_ORIGINS="app.example")
